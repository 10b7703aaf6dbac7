"""Stripe webhooks through the HTTP layer: signatures, exactly-once effects, re-reading Stripe, budgets."""
from __future__ import annotations

import time

import pytest

from tests import ddb_calls
from tests.factories import (
    ADMIN, WEBHOOK_SECRET, deliver, pay, place_order, publish_app, publish_bundle, request_refund, signed_event,
)


def _order(api, order_id, sub="carol"):
    return api.get(f"/orders/{order_id}", sub=sub).data


def _entitlements(api, sub="carol"):
    return sorted(e["listing_id"] for e in api.get("/me/entitlements?limit=100", sub=sub).data["items"])


@pytest.fixture
def pending(api):
    app = publish_app(api, "vendor", price=2500)
    return place_order(api, "carol", [app["listing_id"]]).data


def test_payment_succeeded_pays_order_grants_entitlements_and_audits(api, fake_gateway, pending):
    response = pay(api, fake_gateway, pending)
    assert response.status_code == 200, response.body
    assert response.data["outcome"] == "paid"
    order = _order(api, pending["order_id"])
    assert order["status"] == "paid" and order["paid_at"]
    assert order["payment"]["client_secret"] is None
    assert _entitlements(api) == [pending["lines"][0]["listing_id"]]
    audit = api.get(f"/admin/audit?entity_id={pending['order_id']}", **ADMIN).data["items"]
    assert "order.paid" in [a["action"] for a in audit]


def test_bundle_payment_grants_the_bundle_and_each_app(api, fake_gateway):
    a = publish_app(api, "v1", price=1000)
    b = publish_app(api, "v1", price=2000)
    bundle = publish_bundle(api, "v1", [a["listing_id"], b["listing_id"]], price=2400)
    order = place_order(api, "carol", [bundle["listing_id"]]).data
    pay(api, fake_gateway, order)
    assert _entitlements(api) == sorted([bundle["listing_id"], a["listing_id"], b["listing_id"]])
    one = api.get(f"/me/entitlements/{a['listing_id']}", sub="carol").data
    assert one["via_bundle"] == bundle["listing_id"] and one["type"] == "app"
    assert api.get(f"/me/entitlements/{a['listing_id']}", sub="dave").status_code == 404


def test_duplicate_delivery_takes_effect_once(api, fake_gateway, pending):
    pi_id = pending["payment"]["payment_intent_id"]
    fake_gateway.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id}, event_id="evt_dup")
    assert deliver(api, raw, header).data["outcome"] == "paid"
    again = deliver(api, raw, header)
    assert again.status_code == 200 and again.data["outcome"] == "duplicate"
    # Another event about the same payment changes nothing either.
    raw2, header2 = signed_event("payment_intent.succeeded", {"id": pi_id}, event_id="evt_other")
    assert deliver(api, raw2, header2).data["outcome"] == "noop:paid"
    audit = api.get(f"/admin/audit?entity_id={pending['order_id']}", **ADMIN).data["items"]
    assert [a["action"] for a in audit].count("order.paid") == 1


def test_event_body_is_not_trusted_state_is_reread_from_stripe(api, fake_gateway, pending):
    # A forged-looking "succeeded" event for an intent that Stripe says is unpaid changes nothing.
    pi_id = pending["payment"]["payment_intent_id"]
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "status": "succeeded", "amount": 2500})
    response = deliver(api, raw, header)
    assert response.status_code == 200 and response.data["outcome"].startswith("noop:intent_")
    assert _order(api, pending["order_id"])["status"] == "pending_payment"
    assert "retrieve_payment_intent" in fake_gateway.calls


def test_late_payment_failed_never_undoes_paid(api, fake_gateway, pending):
    pi_id = pending["payment"]["payment_intent_id"]
    fake_gateway.decline(pi_id)
    failed_raw, failed_header = signed_event("payment_intent.payment_failed", {"id": pi_id}, event_id="evt_fail")
    fake_gateway.succeed(pi_id)  # the customer retried with another card before the failure event arrived
    pay(api, fake_gateway, pending)
    late = deliver(api, failed_raw, failed_header)
    assert late.status_code == 200
    assert _order(api, pending["order_id"])["status"] == "paid"


def test_payment_failed_marks_failed_and_a_retry_still_pays(api, fake_gateway, pending):
    pi_id = pending["payment"]["payment_intent_id"]
    fake_gateway.decline(pi_id, "insufficient_funds")
    raw, header = signed_event("payment_intent.payment_failed", {"id": pi_id})
    assert deliver(api, raw, header).data["outcome"] == "failed"
    order = _order(api, pending["order_id"])
    assert order["status"] == "failed" and order["failure_reason"] == "insufficient_funds"
    assert order["payment"]["client_secret"]  # the customer can try another card
    assert pay(api, fake_gateway, pending).data["outcome"] == "paid"
    assert _order(api, pending["order_id"])["status"] == "paid"


def test_payment_of_another_amount_is_not_accepted(api, fake_gateway, pending):
    pi_id = pending["payment"]["payment_intent_id"]
    from dataclasses import replace

    fake_gateway.succeed(pi_id)
    fake_gateway.intents[pi_id] = replace(fake_gateway.intents[pi_id], amount=1)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id})
    assert deliver(api, raw, header).data["outcome"] == "ignored:amount_mismatch"
    assert _order(api, pending["order_id"])["status"] == "pending_payment"


@pytest.mark.parametrize("mangle", ["bad_signature", "wrong_secret", "missing", "old", "future", "tampered_body",
                                    "malformed_header"])
def test_unverifiable_deliveries_are_400_and_change_nothing(api, fake_gateway, pending, mangle):
    pi_id = pending["payment"]["payment_intent_id"]
    fake_gateway.succeed(pi_id)
    now = int(time.time())
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id})
    if mangle == "bad_signature":
        header = header[:-4] + "0000"
    elif mangle == "wrong_secret":
        raw, header = signed_event("payment_intent.succeeded", {"id": pi_id}, secret="whsec_other")
    elif mangle == "missing":
        header = None
    elif mangle == "old":  # a validly signed delivery replayed after the 300 s tolerance
        raw, header = signed_event("payment_intent.succeeded", {"id": pi_id}, signed_at=now - 301)
    elif mangle == "future":
        raw, header = signed_event("payment_intent.succeeded", {"id": pi_id}, signed_at=now + 400)
    elif mangle == "tampered_body":
        raw = raw.replace(b'"livemode": false', b'"livemode": true')
    elif mangle == "malformed_header":
        header = "v1=abc"
    response = deliver(api, raw, header)
    assert response.status_code == 400, response.body
    assert response.data["error"]["code"] == "validation_error"
    assert _order(api, pending["order_id"])["status"] == "pending_payment"
    assert "retrieve_payment_intent" not in fake_gateway.calls


def test_signature_within_tolerance_is_accepted(api, fake_gateway, pending):
    fake_gateway.succeed(pending["payment"]["payment_intent_id"])
    raw, header = signed_event("payment_intent.succeeded", {"id": pending["payment"]["payment_intent_id"]},
                               signed_at=int(time.time()) - 290)
    assert deliver(api, raw, header).status_code == 200


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"id": "evt_1", "type": "payment_intent.succeeded"}',
                                 b'{"id": 5, "type": "x", "data": {"object": {"id": "pi"}}}',
                                 b'{"id": "evt_1", "type": "x", "data": {"object": {}}}', b"\xff\xfe"])
def test_signed_but_malformed_bodies_are_400(api, raw):
    from chalicelib.webhooks.signature import sign

    response = deliver(api, raw, sign(raw, WEBHOOK_SECRET))
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"


def test_unknown_event_types_are_acknowledged_and_ignored(api, fake_gateway):
    raw, header = signed_event("customer.created", {"id": "cus_1"})
    response = deliver(api, raw, header)
    assert response.status_code == 200 and response.data["outcome"] == "ignored:unhandled_type"
    assert fake_gateway.calls == []


def test_events_for_unknown_orders_are_acknowledged(api, fake_gateway):
    intent = fake_gateway.create_payment_intent(order_id="ord_elsewhere", amount=100, currency="usd",
                                                customer_ref="x", idempotency_key="x")
    fake_gateway.succeed(intent.payment_intent_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": intent.payment_intent_id})
    assert deliver(api, raw, header).data["outcome"] == "ignored:unknown_order"
    raw, header = signed_event("payment_intent.succeeded", {"id": "pi_not_in_stripe"})
    assert deliver(api, raw, header).status_code == 404  # Stripe has no such object: not ours to accept


def test_stripe_outage_is_503_and_the_event_can_be_redelivered(api, fake_gateway, pending):
    from chalicelib.core.errors import UpstreamUnavailable

    pi_id = pending["payment"]["payment_intent_id"]
    fake_gateway.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id})
    fake_gateway.fail_next = UpstreamUnavailable("down")
    assert deliver(api, raw, header).status_code == 503
    assert deliver(api, raw, header).data["outcome"] == "paid"


# --- budgets -------------------------------------------------------------------------------------
def test_post_orders_costs_at_most_4_dynamodb_calls_and_1_stripe_call(api, fake_gateway):
    a = publish_app(api, "v1", price=1000)
    b = publish_app(api, "v2", price=2000)
    c = publish_app(api, "v3", price=500)
    bundle = publish_bundle(api, "v3", [c["listing_id"], publish_app(api, "v3", price=700)["listing_id"]],
                            price=1000)
    fake_gateway.calls.clear()
    with ddb_calls.recording() as log:
        response = place_order(api, "carol", [a["listing_id"], b["listing_id"], bundle["listing_id"]])
    assert response.status_code == 201
    assert log.count() <= 4, log.calls
    assert fake_gateway.calls == ["create_payment_intent"]


def test_a_webhook_costs_at_most_4_dynamodb_calls_and_1_stripe_call(api, fake_gateway):
    a = publish_app(api, "v1", price=1000)
    b = publish_app(api, "v2", price=2000)
    order = place_order(api, "carol", [a["listing_id"], b["listing_id"]]).data
    fake_gateway.succeed(order["payment"]["payment_intent_id"])
    raw, header = signed_event("payment_intent.succeeded", {"id": order["payment"]["payment_intent_id"]})
    fake_gateway.calls.clear()
    with ddb_calls.recording() as log:
        assert deliver(api, raw, header).data["outcome"] == "paid"
    assert log.count() <= 4, log.calls  # the 4th: both partners' event counters, in one BatchGetItem
    assert fake_gateway.calls == ["retrieve_payment_intent"]
    with ddb_calls.recording() as log:
        assert deliver(api, raw, header).data["outcome"] == "duplicate"
    assert log.count() == 1 and fake_gateway.calls == ["retrieve_payment_intent"]


def test_charge_refunded_webhook_costs_at_most_3_dynamodb_calls(api, fake_gateway, pending):
    pay(api, fake_gateway, pending)
    assert request_refund(api, pending["order_id"], {"reason": "asked", "amount": 500}).status_code == 201
    charge_id = fake_gateway.intents[pending["payment"]["payment_intent_id"]].latest_charge_id
    raw, header = signed_event("charge.refunded", {"id": charge_id, "object": "charge"})
    fake_gateway.calls.clear()
    with ddb_calls.recording() as log:
        assert deliver(api, raw, header).data["outcome"] == "noop:refunds_recorded"
    assert log.count() <= 3, log.calls
    assert fake_gateway.calls == ["retrieve_charge"]


# --- refunds made in the Stripe dashboard, disputes, connected accounts ------------------------------
def test_dashboard_refund_arrives_by_charge_refunded_and_is_counted_once(api, fake_gateway, pending):
    pay(api, fake_gateway, pending)
    pi_id = pending["payment"]["payment_intent_id"]
    fake_gateway.refund_in_dashboard(pi_id, 2500)
    charge_id = fake_gateway.intents[pi_id].latest_charge_id
    raw, header = signed_event("charge.refunded", {"id": charge_id, "object": "charge"})
    assert deliver(api, raw, header).data["outcome"] == "refunded:1"
    assert _journaled(f"sale-{pending['order_id']}")
    raw, header = signed_event("charge.refunded", {"id": charge_id, "object": "charge"})
    assert deliver(api, raw, header).data["outcome"] == "noop:refunds_recorded"
    order = _order(api, pending["order_id"])
    assert order["status"] == "refunded" and order["refunded"]["amount"] == 2500
    assert len(order["refunds"]) == 1 and order["refunds"][0]["reason"] == "refunded in Stripe"
    assert _entitlements(api) == []


def test_dispute_opened_then_won_restores_the_order(api, fake_gateway, pending):
    pay(api, fake_gateway, pending)
    dispute = fake_gateway.open_dispute(pending["payment"]["payment_intent_id"])
    raw, header = signed_event("charge.dispute.created", {"id": dispute.dispute_id, "object": "dispute"})
    assert deliver(api, raw, header).data["outcome"] == "dispute_open"
    assert _order(api, pending["order_id"])["status"] == "disputed"
    assert request_refund(api, pending["order_id"], {"reason": "x"}).status_code == 409  # disputed: no refunds
    fake_gateway.close_dispute(dispute.dispute_id, "won")
    raw, header = signed_event("charge.dispute.closed", {"id": dispute.dispute_id, "object": "dispute"})
    assert deliver(api, raw, header).data["outcome"] == "dispute_won"
    assert _order(api, pending["order_id"])["status"] == "paid"
    actions = [a["action"] for a in api.get(f"/admin/audit?entity_id={pending['order_id']}", **ADMIN).data["items"]]
    assert "order.dispute_open" in actions and "order.dispute_won" in actions
    assert _journaled(f"dispute-{dispute.dispute_id}-opened") and _journaled(f"dispute-{dispute.dispute_id}-closed")


def _journaled(txn_id: str) -> bool:
    from chalicelib.db import keys
    from chalicelib.ledger.journal import JournalItem

    try:
        JournalItem.get(keys.journal_pk(txn_id), keys.JOURNAL_SK)
        return True
    except JournalItem.DoesNotExist:
        return False


def test_dispute_events_out_of_order_apply_the_current_state_once(api, fake_gateway, pending):
    pay(api, fake_gateway, pending)
    dispute = fake_gateway.open_dispute(pending["payment"]["payment_intent_id"])
    created = signed_event("charge.dispute.created", {"id": dispute.dispute_id})
    fake_gateway.close_dispute(dispute.dispute_id, "lost")
    closed = signed_event("charge.dispute.closed", {"id": dispute.dispute_id})
    assert deliver(api, *closed).data["outcome"] == "dispute_lost"
    assert deliver(api, *created).data["outcome"] == "noop:dispute_lost"
    assert _order(api, pending["order_id"])["status"] == "disputed"
    # First seen closed: opened and closed are journaled together, so the ledger stays balanced.
    assert _journaled(f"dispute-{dispute.dispute_id}-opened") and _journaled(f"dispute-{dispute.dispute_id}-closed")


def test_account_updated_sets_the_linked_partners_payouts_flag_newest_first(api, fake_gateway):
    from chalicelib.db import keys
    from chalicelib.db.table import MarketItem, connection
    from chalicelib.config import get_settings

    partner = publish_app(api, "vendor")["partner_id"]
    connection().put_item(get_settings().table_name, keys.connect_account_pk("acct_1"), keys.CONNECT_ACCOUNT_SK,
                          attributes={"partner_id": {"S": partner}, "kind": {"S": "ConnectLink"}})
    now = int(time.time())
    newer = signed_event("account.updated", {"id": "acct_1", "object": "account", "payouts_enabled": True,
                                             "charges_enabled": True}, created=now)
    older = signed_event("account.updated", {"id": "acct_1", "object": "account", "payouts_enabled": False},
                         created=now - 60)
    assert deliver(api, *newer).data["outcome"] == "account_updated"
    assert api.get("/partners/me", sub="vendor").data["payouts_enabled"] is True
    audit = api.get(f"/admin/audit?entity_id={partner}", **ADMIN).data["items"]
    assert audit[0]["action"] == "partner.payout_account_updated" and audit[0]["data"]["payouts_enabled"] is True
    assert deliver(api, *older).data["outcome"] == "noop:older_than_stored"
    assert api.get("/partners/me", sub="vendor").data["payouts_enabled"] is True
    unlinked = signed_event("account.updated", {"id": "acct_unknown", "payouts_enabled": True})
    assert deliver(api, *unlinked).data["outcome"] == "account_stored_unlinked"
    assert MarketItem  # imported for the table model's registration
