"""Every money-moving write is replay-safe: finance adjustments, orders and refunds by Idempotency-Key.

Same key and body: the first answer again, with `Idempotent-Replayed: true`, and money moved once; same
key, other body: 409 `idempotency_conflict`; no key: 400. Every stored record carries `expires_at`, the
attribute the table's TTL is declared on.
"""
from __future__ import annotations

import time

import pytest

from chalicelib.db import keys
from chalicelib.db.idempotency import TTL_SECONDS, IdempotencyItem
from chalicelib.ledger import adjustments
from tests.factories import (
    ADMIN, FINANCE, Api, approved_partner, new_key, pay, place_order, publish_app, request_refund,
)

REPLAYED = "Idempotent-Replayed"


def adjust(api: Api, body: dict, *, key: str | None = None, who: dict = FINANCE):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post("/finance/adjustments", body, headers=headers, **who)


def balance(api: Api, sub: str) -> int:
    return api.get("/partner/balance", sub=sub).data["usd"]["balance"]


def adjustment_entries(api: Api, partner_id: str) -> list[dict]:
    page = api.get(f"/finance/ledger?account=partner:{partner_id}:usd&limit=100", **FINANCE).data
    return [e for e in page["items"] if e["kind"] == "adjustment"]


def stored_record(scope: str, caller: str, key: str) -> IdempotencyItem:
    return IdempotencyItem.get(keys.idempotency_pk(scope, caller, key), keys.IDEMPOTENCY_SK, consistent_read=True)


def assert_expires_in_a_day(record: IdempotencyItem) -> None:
    now = int(time.time())
    assert now + TTL_SECONDS - 60 <= int(record.expires_at) <= now + TTL_SECONDS + 60


@pytest.fixture
def partner(api):
    return approved_partner(api, "alice")["partner_id"]


def _body(partner_id: str, amount: int = 700) -> dict:
    return {"partner_id": partner_id, "amount": {"amount": amount, "currency": "usd"}, "reason": "missed sale"}


def test_adjustment_without_key_is_400_and_moves_nothing(api, partner):
    response = adjust(api, _body(partner))
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"
    assert response.data["error"]["details"][0]["field"] == "Idempotency-Key"
    assert adjust(api, _body(partner), key=" ").status_code == 400
    assert adjust(api, _body(partner), key="k" * 256).status_code == 400
    assert api.get("/partner/balance", sub="alice").data == {}
    assert adjustment_entries(api, partner) == []


def test_adjustment_retried_with_its_key_moves_money_once(api, partner):
    first = adjust(api, _body(partner), key="adj-1")
    assert first.status_code == 201, first.body
    assert REPLAYED not in first.headers
    again = adjust(api, _body(partner), key="adj-1")
    assert (again.status_code, again.data) == (201, first.data)
    assert again.headers[REPLAYED] == "true"
    assert balance(api, "alice") == 700
    assert [e["txn_id"] for e in adjustment_entries(api, partner)] == [first.data["txn_id"]]
    audit = api.get(f"/admin/audit?entity_id={partner}", **FINANCE).data["items"]
    assert [a["action"] for a in audit].count("ledger.adjusted") == 1
    assert_expires_in_a_day(stored_record("adjustments", FINANCE["sub"], "adj-1"))


def test_adjustment_key_reused_with_another_body_is_a_conflict(api, partner):
    first = adjust(api, _body(partner), key="adj-2")
    assert first.status_code == 201
    conflict = adjust(api, _body(partner, amount=900), key="adj-2")
    assert conflict.status_code == 409
    assert conflict.data["error"]["code"] == "idempotency_conflict"
    assert balance(api, "alice") == 700
    # A key belongs to its caller: another finance user may use the same string for their own adjustment.
    other = adjust(api, _body(partner, amount=50), key="adj-2", who={"sub": "finance-2", "groups": ["finance"]})
    assert other.status_code == 201 and other.data["adjustment_id"] != first.data["adjustment_id"]
    assert balance(api, "alice") == 750


def test_racing_retries_of_one_adjustment_commit_once(api, partner, monkeypatch):
    """The loser read no record (the winner had not committed), so only the transaction stops it."""
    first = adjust(api, _body(partner), key="adj-race")
    real_lookup = adjustments.idempotency.lookup
    calls = []

    def lookup_before_the_winner_committed(key):
        calls.append(key.key)
        return None if len(calls) == 1 else real_lookup(key)

    monkeypatch.setattr(adjustments.idempotency, "lookup", lookup_before_the_winner_committed)
    loser = adjust(api, _body(partner), key="adj-race")
    assert len(calls) == 2  # the pre-check saw nothing; the refused transaction looked again
    assert (loser.status_code, loser.data, loser.headers[REPLAYED]) == (201, first.data, "true")
    calls.clear()
    conflict = adjust(api, _body(partner, amount=1), key="adj-race")
    assert conflict.status_code == 409 and conflict.data["error"]["code"] == "idempotency_conflict"
    assert balance(api, "alice") == 700
    assert len(adjustment_entries(api, partner)) == 1


def test_a_key_whose_record_expired_cannot_adjust_again(api, partner):
    """DynamoDB's TTL removed the record; the journal entry (id derived from the key) still refuses a repeat."""
    assert adjust(api, _body(partner), key="adj-old").status_code == 201
    stored_record("adjustments", FINANCE["sub"], "adj-old").delete()
    again = adjust(api, _body(partner), key="adj-old")
    assert again.status_code == 409 and again.data["error"]["code"] == "idempotency_conflict"
    assert balance(api, "alice") == 700


def test_order_replay_carries_the_replay_header_and_its_record_expires(api, fake_gateway):
    app = publish_app(api, "vendor")
    first = place_order(api, "carol", [app["listing_id"]], key="ord-1")
    assert first.status_code == 201 and REPLAYED not in first.headers
    again = place_order(api, "carol", [app["listing_id"]], key="ord-1")
    assert (again.status_code, again.data, again.headers[REPLAYED]) == (201, first.data, "true")
    assert len(fake_gateway.intents) == 1
    assert_expires_in_a_day(stored_record("orders", "carol", "ord-1"))


def test_refund_replay_carries_the_replay_header_and_its_record_expires(api, fake_gateway):
    app = publish_app(api, "vendor", price=1000)
    placed = place_order(api, "carol", [app["listing_id"]]).data
    assert pay(api, fake_gateway, placed).data["outcome"] == "paid"
    order_id = placed["order_id"]
    key = new_key()
    first = request_refund(api, order_id, {"reason": "goodwill", "amount": 300}, key=key)
    assert first.status_code == 201 and REPLAYED not in first.headers
    again = request_refund(api, order_id, {"reason": "goodwill", "amount": 300}, key=key)
    assert (again.status_code, again.data, again.headers[REPLAYED]) == (201, first.data, "true")
    assert len(fake_gateway.refunds) == 1
    assert api.get(f"/orders/{order_id}", **ADMIN).data["refunded"]["amount"] == 300
    assert_expires_in_a_day(stored_record(f"refund:{order_id}", ADMIN["sub"], key))


def test_openapi_declares_the_key_and_the_replay_header_on_every_money_write(api):
    doc = api.get("/openapi.json").data
    for method, path in (("post", "/orders"), ("post", "/admin/orders/{order_id}/refunds"),
                         ("post", "/finance/adjustments")):
        operation = doc["paths"][path][method]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"]
                   for p in operation["parameters"]), path
        assert REPLAYED in operation["responses"]["201"]["headers"], path
        assert "409" in operation["responses"], path
