"""After `make run`, every persona's first request shows real figures, and seeding again changes nothing.

The real local stack (tests/localstack.py: moto_server, localstripe, the job poller, `chalice local`, seeded
by scripts/seed_local.py exactly as `make run` seeds it) is started once for the module. Finance's partners
report (with recurring revenue), a demo partner's balance, statement, payouts and its listing's reviews (with
the partner's reply) must be non-empty; a payout run and a reconciliation must have completed. Then the seed runs a second time
against the same stores and every one of those answers must be unchanged (idempotent seeding).
"""
from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.localstack import ROOT, running_stack

DEMO_OWNER = "acme-owner"  # the demo partner "Acme Software" (see README, "The first hour")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "run_local.log", startup_seconds=180) as running:
        yield running


def _get(stack, path: str, token: str) -> dict:
    status, body = stack.call("GET", path, token=token)
    assert status == 200, (path, body)
    return body


def _figures(stack) -> dict:
    """What each persona sees first, with volatile fields (request ids, links with fresh tokens) left out."""
    finance, owner = stack.token("demo-finance", "finance"), stack.token(DEMO_OWNER)
    partner = _get(stack, "/partners/me", owner)
    listings = _get(stack, f"/listings?partner_id={partner['partner_id']}&limit=50", owner)["items"]
    reviews = {item["slug"]: _get(stack, f"/listings/{item['listing_id']}/reviews?limit=50", owner)["items"]
               for item in listings}
    return {
        "report": _get(stack, "/finance/reports/partners", finance)["items"],
        "balance": _get(stack, "/partner/balance", owner),
        "statement": _get(stack, "/partner/statement?limit=100", owner)["items"],
        "payouts": _get(stack, "/partner/payouts", owner)["items"],
        "reviews": {slug: items for slug, items in reviews.items() if items},
        "runs": [(r["payout_run_id"], r["status"]) for r in _get(stack, "/finance/payout-runs", finance)["items"]],
        "reconciliations": [(r["reconciliation_id"], r["status"])
                            for r in _get(stack, "/finance/reconciliations", finance)["items"]],
        "carol": [(o["order_id"], o["status"]) for o in _get(stack, "/orders", stack.token("carol"))["items"]],
        "dave": [(x["subscription_id"], x["status"])
                 for x in _get(stack, "/subscriptions", stack.token("dave"))["items"]],
    }


@pytest.fixture(scope="module")
def first(stack) -> dict:
    return _figures(stack)


def _amount(value) -> int:
    return value["amount"] if isinstance(value, dict) else value


def test_finance_report_shows_sales_refunds_and_payouts(first):
    rows = first["report"]
    assert len(rows) >= 3, rows
    assert all(_amount(row["gross"]) > 0 for row in rows), rows
    assert sum(_amount(row["refunds"]) for row in rows) > 0, rows
    assert sum(_amount(row["payouts"]) for row in rows) > 0, rows
    assert any(_amount(row.get("mrr") or 0) > 0 for row in rows), "no recurring revenue in the report"


def test_demo_partner_has_a_balance_a_statement_a_paid_payout_and_replied_reviews(first):
    usd = first["balance"]["usd"]
    assert usd["paid_out"] > 0 and usd["balance"] > 0, first["balance"]
    kinds = {line.get("kind") or line.get("type") for line in first["statement"]}
    assert len(first["statement"]) >= 4 and len(kinds) >= 3, first["statement"]
    assert [p["status"] for p in first["payouts"]] == ["paid"], first["payouts"]
    reviews = [r for items in first["reviews"].values() for r in items]
    assert reviews and any(r.get("reply") for r in reviews), first["reviews"]


def test_a_payout_run_and_a_reconciliation_completed(first):
    assert [status for _, status in first["runs"]] == ["completed"], first["runs"]
    assert [status for _, status in first["reconciliations"]] == ["completed"], first["reconciliations"]
    assert len(first["carol"]) == 3 and all(status == "paid" for _, status in first["carol"]), first["carol"]
    assert [status for _, status in first["dave"]] == ["active"], first["dave"]


def test_seeding_again_changes_nothing(stack, first):
    from scripts.run_local import local_env

    ports = [urlsplit(url).port for url in (stack.api, stack.ddb, stack.stripe)]
    env = local_env(*ports)
    seeded = subprocess.run([sys.executable, "scripts/seed_local.py"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stdout[-2000:] + seeded.stderr[-2000:]
    assert "already paid" in seeded.stdout and "already completed" in seeded.stdout, seeded.stdout[-2000:]
    assert _figures(stack) == first
