"""Balance, statement and finance journal through the HTTP layer."""
from __future__ import annotations

import csv
import io

import pytest

from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.rules import allocate_refund
from tests.factories import FINANCE, Api, approved_partner, line, new_key, order, part, refund


@pytest.fixture
def api(client):
    return Api(client)


def adjust(api: Api, body: dict, *, key: str | None = None, **who):
    return api.post("/finance/adjustments", body, headers={"Idempotency-Key": key or new_key()}, **who)


def sell(*orders):
    for o in orders:
        with transaction() as tx:
            recorder.record_sale(tx, o)


def test_balance_shows_pending_and_statement_explains_it(api):
    pid = approved_partner(api, "alice")["partner_id"]
    o = order(line(part(pid, 2999, 2000)), line(part(pid, 1000, 2000)))
    sell(o)
    r = refund(o, allocate_refund(o, 1000, None))
    with transaction() as tx:
        recorder.record_refund(tx, o, r)
    bal = api.get("/partner/balance", sub="alice")
    assert bal.status_code == 200, bal.body
    # sale net 2399 + 800 = 3199; refund 1000 split 750/250 reverses fees 150+50 -> net 600+200
    assert bal.data == {"usd": {"pending": 2399, "available": 0, "paid_out": 0, "balance": 2399}}
    st = api.get("/partner/statement?limit=1", sub="alice")
    assert st.status_code == 200, st.body
    assert st.data["opening_balance"] == 0 and st.data["closing_balance"] == 2399
    assert st.data["totals"]["sales"] == 3999 and st.data["totals"]["refunds"] == 1000
    first = st.data["items"][0]
    assert (first["type"], first["gross"], first["fee"], first["net"], first["balance"]) == ("sale", 3999, -800, 3199, 3199)
    nxt = api.get(f"/partner/statement?limit=1&cursor={st.data['next_cursor']}", sub="alice")
    assert nxt.status_code == 200, nxt.body
    second = nxt.data["items"][0]
    assert (second["type"], second["gross"], second["fee"], second["net"], second["balance"]) == (
        "refund", -1000, 200, -800, 2399)
    assert nxt.data["next_cursor"] is None
    tampered = api.get(f"/partner/statement?limit=1&cursor={st.data['next_cursor'][:-2]}xx", sub="alice")
    assert tampered.status_code == 400 and tampered.data["error"]["code"] == "bad_cursor"


def test_statement_csv_has_header_currency_and_decimal_amounts(api):
    pid = approved_partner(api, "alice")["partner_id"]
    sell(order(line(part(pid, 1234, 1000))))
    response = api.get("/partner/statement?format=csv", sub="alice")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.body.decode() if isinstance(response.body, bytes) else response.body)))
    assert rows[0] == ["date", "type", "reference", "currency", "gross", "fee", "net", "balance"]
    assert rows[2][1:] [0] == "sale" and rows[2][3:] == ["usd", "12.34", "-1.23", "11.11", "11.11"]


def test_statement_bad_input_and_strangers(api):
    approved_partner(api, "alice")
    assert api.get("/partner/statement?from=2026-13-01", sub="alice").status_code == 400
    bad = api.get("/partner/statement?from=2026-11-10&to=2026-11-01", sub="alice")
    assert bad.status_code == 400 and bad.data["error"]["code"] == "validation_error"
    assert api.get("/partner/statement?format=pdf", sub="alice").status_code == 400
    assert api.get("/partner/balance", sub="nobody").status_code == 404
    assert api.get("/partner/balance").status_code == 401


def test_multi_currency_statement_needs_a_currency(api):
    pid = approved_partner(api, "alice")["partner_id"]
    sell(order(line(part(pid, 1000))), order(line(part(pid, 1000)), currency="eur"))
    assert set(api.get("/partner/balance", sub="alice").data) == {"eur", "usd"}
    response = api.get("/partner/statement", sub="alice")
    assert response.status_code == 400 and response.data["error"]["details"][0]["field"] == "currency"
    assert api.get("/partner/statement?currency=eur", sub="alice").data["closing_balance"] == 800


def test_finance_ledger_lists_balanced_entries_and_account_postings(api):
    pid = approved_partner(api, "alice")["partner_id"]
    sell(order(line(part(pid, 1000))), order(line(part(pid, 500))))
    everything = api.get("/finance/ledger", **FINANCE)
    assert everything.status_code == 200, everything.body
    assert len(everything.data["items"]) == 2
    for entry in everything.data["items"]:
        assert sum(l["debit"] for l in entry["lines"]) == sum(l["credit"] for l in entry["lines"])
    mine = api.get(f"/finance/ledger?account=partner:{pid}:usd&limit=1", **FINANCE)
    assert mine.status_code == 200 and mine.data["items"][0]["credit"] == 800 and mine.data["next_cursor"]
    fees = api.get("/finance/ledger?account=platform:fees:usd", **FINANCE)
    assert [i["credit"] for i in fees.data["items"]] == [200, 100]
    assert api.get("/finance/ledger?account=bogus", **FINANCE).status_code == 400
    assert api.get("/finance/ledger", sub="alice").status_code == 403


def test_finance_adjustment_is_a_new_balanced_entry_with_audit(api):
    pid = approved_partner(api, "alice")["partner_id"]
    sell(order(line(part(pid, 1000))))
    body = {"partner_id": pid, "amount": {"amount": -300, "currency": "usd"}, "reason": "chargeback recovery"}
    made = adjust(api, body, **FINANCE)
    assert made.status_code == 201, made.body
    assert api.get("/partner/balance", sub="alice").data["usd"]["balance"] == 500
    st = api.get("/partner/statement", sub="alice").data
    assert [i["type"] for i in st["items"]] == ["sale", "adjustment"] and st["totals"]["adjustments"] == -300
    audit = api.get(f"/admin/audit?entity_id={pid}", **FINANCE).data["items"]
    assert "ledger.adjusted" in {a["action"] for a in audit}
    assert adjust(api, {**body, "amount": {"amount": 0, "currency": "usd"}}, **FINANCE).status_code == 400
    assert adjust(api, {**body, "partner_id": "ptn_nobody"}, **FINANCE).status_code == 404
    assert adjust(api, body, sub="alice").status_code == 403
    assert adjust(api, {**body, "reason": ""}, **FINANCE).status_code == 400
