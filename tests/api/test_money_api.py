"""Payout accounts (Connect sandbox), payout runs, reconciliation and reports through the HTTP layer.

The whole story a new user would try: sell a cross-partner bundle, refund part of it, onboard, run a
payout, reconcile, and find every figure agreeing across report, statement, balance and journal.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import pytest

from chalicelib.core import clock
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.rules import allocate_refund
from chalicelib.reconciliation.sources import use_listing
from tests.factories import FINANCE, Api, approved_partner, line, order, part, refund
from tests.fakes import FakeStripeListing

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def api(client):
    clock.set_now(lambda: T0)
    yield Api(client)
    clock.set_now(None)
    use_listing(None)


def onboard(api: Api, sub: str) -> dict:
    created = api.post("/partners/me/payout-account", {}, sub=sub)
    assert created.status_code == 201, created.body
    url = urlparse(created.data["onboarding_url"])
    opened = api.get(f"{url.path}?{url.query}")
    assert opened.status_code == 200, opened.body
    return created.data


def text(response) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def test_payout_account_is_created_once_and_sandbox_onboarding_enables_payouts(api):
    approved_partner(api, "alice")
    first = api.post("/partners/me/payout-account", {}, sub="alice")
    assert first.status_code == 201 and first.data["stripe_account_id"].startswith("acct_")
    assert api.get("/partners/me", sub="alice").data["payouts_enabled"] is False
    url = urlparse(first.data["onboarding_url"])
    assert api.get(f"{url.path}?token=wrong").status_code == 404
    assert api.get(url.path).status_code == 400
    assert api.get(f"{url.path}?{url.query}").status_code == 200
    profile = api.get("/partners/me", sub="alice").data
    assert profile["payouts_enabled"] is True and profile["stripe_account_id"] == first.data["stripe_account_id"]
    again = api.post("/partners/me/payout-account", {}, sub="alice")
    assert again.status_code == 200 and again.data["stripe_account_id"] == first.data["stripe_account_id"]
    assert api.post("/partners/me/payout-account", {"x": 1}, sub="alice").status_code == 400
    assert api.post("/partners/me/payout-account", {}, sub="nobody").status_code == 404
    audit = api.get(f"/admin/audit?entity_id={profile['partner_id']}", **FINANCE).data["items"]
    assert {"partner.payout_account_created", "partner.payouts_enabled"} <= {a["action"] for a in audit}


def test_money_roles_are_enforced(api):
    approved_partner(api, "alice")
    for path in ("/finance/ledger", "/finance/reports/partners", "/finance/payout-runs/x",
                 "/finance/reconciliations/x"):
        assert api.get(path, sub="alice").status_code == 403, path
    assert api.post("/finance/payout-runs", {}, sub="alice").status_code == 403
    assert api.post("/finance/payout-runs", {"currency": "jpy"}, **FINANCE).status_code == 400
    assert api.get("/finance/payout-runs/prun_missing", **FINANCE).status_code == 404
    assert api.post("/finance/reconciliations", {"from": "2026-10-02"}, **FINANCE).status_code == 400
    bad = api.post("/finance/reconciliations", {"from": "2026-10-02", "to": "2026-10-01"}, **FINANCE)
    assert bad.status_code == 400
    assert api.get("/finance/reconciliations/rec_missing", **FINANCE).status_code == 404
    for bad_bound in ("2026-10-01T25:00:00Z", "0001-01-01", "yesterday"):
        refused = api.post("/finance/reconciliations", {"from": bad_bound, "to": "2026-10-02"}, **FINANCE)
        assert refused.status_code == 400 and refused.data["error"]["code"] == "validation_error", bad_bound
    assert api.get("/finance/payout-runs?limit=0", **FINANCE).status_code == 400


def test_sell_refund_pay_out_reconcile_and_every_figure_agrees(api, jobs):
    alice = approved_partner(api, "alice")["partner_id"]
    bob = approved_partner(api, "bob")["partner_id"]
    onboard(api, "alice")
    onboard(api, "bob")
    bundle = line(part(alice, 7500, 2000), part(bob, 22490, 1500))  # a cross-partner bundle at 299.90
    app = line(part(alice, 5000, 2000))
    o = order(bundle, app, pi="pi_demo")
    with transaction() as tx:
        recorder.record_sale(tx, o)
    split = allocate_refund(o, 5000, None)  # part of it back
    r = refund(o, split, stripe="re_demo")
    with transaction() as tx:
        recorder.record_refund(tx, o, r)

    clock.set_now(lambda: T0 + timedelta(days=15))
    started = api.post("/finance/payout-runs", {"currency": "usd"}, **FINANCE)
    assert started.status_code == 202, started.body
    assert started.data["status"] == "queued" and started.data["progress"]["partners_total"] == 0
    busy = api.post("/finance/payout-runs", {}, **FINANCE)  # every currency: collides with the open usd run
    assert busy.status_code == 409 and busy.data["error"]["code"] == "conflict"
    jobs()
    run = api.get(f"/finance/payout-runs/{started.data['payout_run_id']}", **FINANCE)
    assert run.status_code == 200, run.body
    assert run.data["status"] == "completed" and len(run.data["payouts"]) == 2
    assert run.data["progress"] == {"partners_total": 2, "paid": 2, "failed": 0, "skipped": 0, "pending": 0}
    assert all(p["status"] == "paid" and p["transfer_id"] for p in run.data["payouts"])
    listed = api.get("/finance/payout-runs", **FINANCE).data["items"]
    assert [r["payout_run_id"] for r in listed] == [started.data["payout_run_id"]]
    mine = api.get("/partner/payouts", sub="alice")
    assert mine.status_code == 200 and len(mine.data["items"]) == 1
    paid_alice = mine.data["items"][0]["amount"]["amount"]

    # Stripe's side, as the fake listing serves it: the payment, the refund and the two transfers
    stripe = FakeStripeListing()
    created = int(T0.timestamp())
    stripe.add("payment", "pi_demo", o.total, created=created)
    stripe.add("refund", "re_demo", 5000, created=created)
    for p in run.data["payouts"]:
        stripe.add("transfer", p["transfer_id"], p["amount"]["amount"], created=created + 15 * 86400)
    use_listing(stripe)
    started = api.post("/finance/reconciliations", {"from": "2026-10-01", "to": "2026-10-31T23:59:59Z"}, **FINANCE)
    assert started.status_code == 202 and started.data["status"] == "queued", started.body
    early = api.get(f"/finance/reconciliations/{started.data['reconciliation_id']}?format=csv", **FINANCE)
    assert early.status_code == 409  # the report exists once the job has completed
    jobs()
    recon = api.get(f"/finance/reconciliations/{started.data['reconciliation_id']}", **FINANCE)
    assert recon.data["status"] == "completed" and recon.data["matched"] == 4 and recon.data["discrepancies"] == []
    listed = api.get("/finance/reconciliations", **FINANCE).data["items"]
    assert [r["reconciliation_id"] for r in listed] == [started.data["reconciliation_id"]]
    again = api.get(f"/finance/reconciliations/{recon.data['reconciliation_id']}?format=csv", **FINANCE)
    assert again.status_code == 200 and text(again).splitlines() == [
        "kind,object,currency,stripe_id,stripe_amount,stripe_status,ledger_txn_id,ledger_amount,ledger_status,"
        "entity_id"]

    report = api.get("/finance/reports/partners?from=2026-10-01&to=2026-10-31", **FINANCE)
    assert report.status_code == 200, report.body
    rows = {row["partner_id"]: row for row in report.data["items"]}
    for sub, pid in (("alice", alice), ("bob", bob)):
        row = rows[pid]
        statement = api.get("/partner/statement?from=2026-10-01&to=2026-10-31&limit=100", sub=sub).data
        balance = api.get("/partner/balance", sub=sub).data["usd"]
        journal = api.get(f"/finance/ledger?account=partner:{pid}:usd&from=2026-10-01&to=2026-10-31&limit=100",
                          **FINANCE).data["items"]
        journal_net = sum(e["credit"] - e["debit"] for e in journal)
        assert row["net"] - row["payouts"] == statement["closing_balance"] == balance["balance"] == journal_net
        assert row["gross"] == statement["totals"]["sales"]
        assert row["refunds"] == statement["totals"]["refunds"]
        assert row["fees"] == statement["totals"]["fees"]
        assert row["payouts"] == balance["paid_out"] == statement["totals"]["payouts"]
        assert statement["items"][-1]["balance"] == statement["closing_balance"]
    assert rows[alice]["payouts"] == paid_alice
    # alice: 7500+5000 sold; refund 5000 spread 7500:22490:5000 -> lines 29990/5000
    assert rows[alice]["gross"] + rows[bob]["gross"] == o.total
    assert rows[alice]["refunds"] + rows[bob]["refunds"] == 5000
    assert rows[alice]["fees"] + rows[bob]["fees"] + rows[alice]["net"] + rows[bob]["net"] == o.total - 5000

    csv_report = api.get("/finance/reports/partners?from=2026-10-01&to=2026-10-31&format=csv", **FINANCE)
    table = list(csv.DictReader(io.StringIO(text(csv_report))))
    assert {r["currency"] for r in table} == {"usd"}
    alice_csv = next(r for r in table if r["partner_id"] == alice)
    assert alice_csv["net"] == f"{rows[alice]['net'] // 100}.{rows[alice]['net'] % 100:02d}"


def test_report_pages_across_partners(api):
    pids = [approved_partner(api, f"p{i}")["partner_id"] for i in range(3)]
    for pid in pids:
        with transaction() as tx:
            recorder.record_sale(tx, order(line(part(pid, 1000))))
    first = api.get("/finance/reports/partners?limit=2", **FINANCE)
    assert len(first.data["items"]) == 2 and first.data["next_cursor"]
    second = api.get(f"/finance/reports/partners?limit=2&cursor={first.data['next_cursor']}", **FINANCE)
    assert len(second.data["items"]) == 1 and second.data["next_cursor"] is None
    assert {i["partner_id"] for i in first.data["items"] + second.data["items"]} == set(pids)
    bad = api.get(f"/finance/reports/partners?limit=2&cursor={first.data['next_cursor']}&currency=eur", **FINANCE)
    assert bad.status_code == 400 and bad.data["error"]["code"] == "bad_cursor"


def test_sandbox_onboarding_route_does_not_exist_outside_the_local_stage(api, monkeypatch):
    from types import SimpleNamespace

    from chalicelib.payouts import routes

    approved_partner(api, "alice")
    created = api.post("/partners/me/payout-account", {}, sub="alice").data
    url = urlparse(created["onboarding_url"])
    monkeypatch.setattr(routes, "get_settings", lambda: SimpleNamespace(is_local=False))
    assert api.get(f"{url.path}?{url.query}").status_code == 404
    assert api.get("/partners/me", sub="alice").data["payouts_enabled"] is False
