"""A payout run and a reconciliation on the real `make run` stack reach `completed` by themselves.

`tests/localstack.py` starts what `make run` starts (moto_server with SQS, localstripe, the job poller with two
worker threads, `chalice local`, the seeded demo). As a new user would: finance posts a payout run, gets 202
`queued` at once, and polls until the job poller's workers have completed it; the demo partner is paid
exactly the available balance it had (or skipped with the reason), and its balance says so afterwards. Then
a reconciliation of the last day (ISO timestamps) is posted and completes the same way.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.localstack import running_stack

DEMO_OWNER = "acme-owner"
OPEN = ("queued", "running")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "run_local.log", startup_seconds=180) as running:
        yield running


def _get(stack, path: str, token: str) -> dict:
    status, body = stack.call("GET", path, token=token)
    assert status == 200, (path, body)
    return body


def _until(check, *, seconds: float = 90.0):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.5)


def test_a_payout_run_and_a_reconciliation_complete_by_themselves(stack):
    finance, owner = stack.token("e2e-finance", "finance"), stack.token(DEMO_OWNER)
    # the seed's own run (if still working) must finish first: one open run per currency
    _until(lambda: all(r["status"] not in OPEN for r in _get(stack, "/finance/payout-runs", finance)["items"]))
    partner_id = _get(stack, "/partners/me", owner)["partner_id"]
    available = _get(stack, "/partner/balance", owner).get("usd", {}).get("available", 0)

    status, started = stack.call("POST", "/finance/payout-runs", token=finance, body={"currency": "usd"})
    assert status == 202 and started["status"] == "queued", started
    run_id = started["payout_run_id"]
    status, busy = stack.call("POST", "/finance/payout-runs", token=finance, body={})
    assert status == 409 or _get(stack, f"/finance/payout-runs/{run_id}", finance)["status"] not in OPEN, busy

    run = _until(lambda: (lambda r: r if r["status"] not in OPEN else None)(
        _get(stack, f"/finance/payout-runs/{run_id}?limit=100", finance)))
    progress = run["progress"]
    assert run["status"] in ("completed", "completed_with_failures"), run
    assert progress["paid"] + progress["failed"] + progress["skipped"] + progress["pending"] \
        == progress["partners_total"] > 0, run
    mine = [p for p in run["payouts"] if p["partner_id"] == partner_id]
    skipped = [s for s in run["skipped"] if s["partner_id"] == partner_id]
    if available >= 2500:
        assert [(p["amount"]["amount"], p["status"]) for p in mine] == [(available, "paid")], run
        assert _get(stack, "/partner/balance", owner)["usd"]["available"] == 0
    else:
        assert not mine and skipped, run
    assert run_id in [r["payout_run_id"] for r in _get(stack, "/finance/payout-runs", finance)["items"]]

    now = datetime.now(timezone.utc)
    body = {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
    status, recon = stack.call("POST", "/finance/reconciliations", token=finance, body=body)
    assert status == 202 and recon["status"] == "queued", recon
    done = _until(lambda: (lambda r: r if r["status"] == "completed" else None)(
        _get(stack, f"/finance/reconciliations/{recon['reconciliation_id']}", finance)))
    assert done["stripe_objects"] >= 0 and set(done["counts"]) == {
        "missing_in_ledger", "missing_in_stripe", "amount_mismatch", "status_mismatch"}
