"""What "nothing half-written, no money moved twice" means, checked on the whole table and the Stripe stub.

Each check reads a `table_rows()` snapshot (raw DynamoDB rows), so it sees what is stored rather than what
the code under test believes, and compares it with the stub's own record of what Stripe did.
"""
from __future__ import annotations

import json
from collections import Counter

from boto3.dynamodb.types import TypeDeserializer

from chalicelib.ledger.rules import partner_account
from tests.faults.inject import StripeHttpStub, table_rows

_des = TypeDeserializer()
LEDGERED = {"paid", "partially_refunded", "refunded", "disputed"}
# pynamodb JSONAttributes are stored as JSON strings.
JSON_FIELDS = {"response", "lines", "stripe_refund_ids", "line_amounts", "refs", "disputes", "summary"}


def plain(row: dict) -> dict:
    item = {k: _des.deserialize(v) for k, v in row.items()}
    for name in JSON_FIELDS & item.keys():
        if isinstance(item[name], str) and item[name][:1] in "[{":
            item[name] = json.loads(item[name])
    return item


def by_kind(rows: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows.values():
        item = plain(row)
        out.setdefault(item.get("kind", "?"), []).append(item)
    return out


def assert_checkout_consistent(stub: StripeHttpStub | None = None, rows: dict | None = None, *,
                               stripe_settled: bool = True) -> dict[str, list]:
    """Orders, idempotency records, entitlements, refunds, journal and balances agree; Stripe agrees.

    `stripe_settled=False` while Stripe has refunds a pending webhook redelivery has yet to record: then
    the table may show less than Stripe, never more.
    """
    kinds = by_kind(rows if rows is not None else table_rows())
    orders = kinds.get("Order", [])
    idem = kinds.get("Idempotency", [])
    journal = {j["txn_id"]: j for j in kinds.get("Journal", [])}
    ledger_state = {r["order_id"] for r in kinds.get("OrderLedger", [])}
    refunds = kinds.get("Refund", [])
    guards = kinds.get("StripeRefund", [])
    ents = Counter((e["pk"], e.get("order_id")) for e in kinds.get("Entitlement", []))

    for order in orders:
        oid = order["order_id"]
        # An order exists only with the idempotency record that answers for it (same transaction).
        answers = [r for r in idem if r["scope"] == "orders" and r["response"].get("order_id") == oid]
        assert len(answers) == 1, f"order {oid} has {len(answers)} idempotency records"
        # Paid (or later) <=> its sale is in the ledger; otherwise no journal entry and no entitlement.
        ledgered = order["status"] in LEDGERED
        assert (oid in ledger_state) == ledgered, f"order {oid} {order['status']}: ledger state {oid in ledger_state}"
        assert (f"sale-{oid}" in journal) == ledgered, f"order {oid} {order['status']}: sale entry mismatch"
        if not ledgered:
            assert not any(o == oid for (_pk, o) in ents), f"unpaid order {oid} granted entitlements"
        # Refunds: one row and one guard per Stripe refund counted; totals agree; one journal entry each.
        mine = [r for r in refunds if r["order_id"] == oid]
        assert sorted(r["stripe_refund_id"] for r in mine) == sorted(order.get("stripe_refund_ids") or [])
        assert len([g for g in guards if g["order_id"] == oid]) == len(mine)
        assert sum(int(r["amount"]) for r in mine) == int(order.get("refunded") or 0)
        for r in mine:
            assert f"refund-{r['refund_id']}" in journal, f"refund {r['refund_id']} has no journal entry"
        if stub is not None and order.get("payment_intent_id"):
            # Money moved in Stripe exactly as recorded: never a refund Stripe made twice or we counted twice.
            in_stripe = stub.refunded_total(order["payment_intent_id"])
            recorded = int(order.get("refunded") or 0)
            assert in_stripe == recorded if stripe_settled else recorded <= in_stripe, (in_stripe, recorded)
    assert len(refunds) == len({r["stripe_refund_id"] for r in refunds}), "a Stripe refund was counted twice"
    _assert_ledger(kinds)
    return kinds


def _assert_ledger(kinds: dict[str, list[dict]]) -> None:
    for entry in kinds.get("Journal", []):
        assert sum(int(line["debit"]) - int(line["credit"]) for line in entry["lines"]) == 0, entry["txn_id"]
    postings = Counter()
    for posting in kinds.get("Posting", []):
        postings[posting["account"]] += int(posting["amount"])
    for balance in kinds.get("Balance", []):
        account = partner_account(balance["partner_id"], balance["currency"])
        assert int(balance["delta"]) == -postings[account], f"balance of {account} disagrees with its postings"


def assert_payouts_consistent(stub: StripeHttpStub, rows: dict | None = None) -> dict[str, list]:
    """Each payout: its journal entry, its balance marker while pending, exactly one transfer once paid."""
    kinds = by_kind(rows if rows is not None else table_rows())
    journal = {j["txn_id"] for j in kinds.get("Journal", [])}
    balances = {(b["partner_id"], b["currency"]): b for b in kinds.get("Balance", [])}
    transfers = Counter(t["transfer_group"] for t in stub.state.transfers.values())
    assert all(n == 1 for n in transfers.values()), f"a payout was transferred twice: {transfers}"
    for payout in kinds.get("Payout", []):
        pid = payout["payout_id"]
        assert f"payout-{pid}" in journal, f"payout {pid} has no journal entry"
        balance = balances[(payout["partner_id"], payout["currency"])]
        if payout["status"] == "pending":
            assert balance.get("open_payout") == pid, f"pending payout {pid} is not the balance's in-flight one"
        elif payout["status"] == "paid":
            assert transfers[pid] == 1, f"paid payout {pid} has {transfers[pid]} transfers"
            assert balance.get("open_payout") != pid
        else:
            assert transfers[pid] == 0 and balance.get("open_payout") != pid
    for (partner_id, currency), balance in balances.items():
        paid = sum(int(p["amount"]) for p in kinds.get("Payout", [])
                   if p["partner_id"] == partner_id and p["currency"] == currency and p["status"] == "paid")
        assert int(balance.get("paid_out") or 0) == paid, f"paid_out of {partner_id} {currency} != paid payouts"
        sent = sum(t["amount"] for t in stub.state.transfers.values()
                   if t["metadata"].get("partner_id") == partner_id and t["currency"] == currency)
        pending = sum(int(p["amount"]) for p in kinds.get("Payout", [])
                      if p["partner_id"] == partner_id and p["currency"] == currency and p["status"] == "pending")
        assert paid <= sent <= paid + pending, f"{partner_id}: Stripe sent {sent}, ledger paid {paid}"
    _assert_ledger(kinds)
    return kinds
