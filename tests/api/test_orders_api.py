"""Checkout through the HTTP layer: placing orders, idempotency, reading, canceling (fake Stripe)."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import PaymentFailed, UpstreamUnavailable
from tests.factories import ADMIN, FINANCE, new_key, place_order, publish_admin_bundle, publish_app, publish_bundle


def _audit_actions(api, entity_id):
    return [r["action"] for r in api.get(f"/admin/audit?entity_id={entity_id}", **ADMIN).data["items"]]


def test_order_an_app_creates_pending_order_with_payment_intent(api, fake_gateway):
    app = publish_app(api, "vendor", price=1500)
    response = place_order(api, "carol", [app["listing_id"]])
    assert response.status_code == 201, response.body
    order = response.data
    assert order["status"] == "pending_payment"
    assert order["total"] == {"amount": 1500, "currency": "usd"}
    assert order["payment"]["payment_intent_id"].startswith("pi_")
    assert order["payment"]["client_secret"]
    [line] = order["lines"]
    assert line["price"]["amount"] == 1500
    assert line["parts"] == [{"listing_id": app["listing_id"], "partner_id": app["partner_id"],
                              "amount": {"amount": 1500, "currency": "usd"}, "commission_bps": 2000}]
    intent = fake_gateway.intents[order["payment"]["payment_intent_id"]]
    assert (intent.amount, intent.currency, intent.order_id) == (1500, "usd", order["order_id"])
    assert "order.placed" in _audit_actions(api, order["order_id"])


def test_bundle_line_freezes_split_and_each_partners_commission(api):
    a = publish_app(api, "v1", price=1000)
    b = publish_app(api, "v2", price=3000)
    c = publish_app(api, "v2", price=2000)
    partner_b = api.get("/partners/me", sub="v2").data["partner_id"]
    assert api.put(f"/admin/partners/{partner_b}/commission",
                   {"bps": 1500, "effective_from": __import__("datetime").date.today().isoformat()},
                   **ADMIN).status_code == 200
    bundle = publish_admin_bundle(api, [a["listing_id"], b["listing_id"], c["listing_id"]], price=2999)
    order = place_order(api, "carol", [bundle["listing_id"]]).data
    [line] = order["lines"]
    assert line["type"] == "bundle"
    amounts = {p["listing_id"]: (p["amount"]["amount"], p["commission_bps"]) for p in line["parts"]}
    # pro rata 1000:3000:2000 of 2999 = 499.83, 1499.5, 999.67: the 2 units left go to .83 and .67
    assert amounts == {a["listing_id"]: (500, 2000), b["listing_id"]: (1499, 1500), c["listing_id"]: (1000, 1500)}
    # A later commission change or price edit does not touch the frozen order.
    stored = api.get(f"/orders/{order['order_id']}", sub="carol").data
    assert stored["lines"] == order["lines"]


def test_missing_idempotency_key_is_400_and_creates_nothing(api, fake_gateway):
    app = publish_app(api, "vendor")
    response = api.post("/orders", {"items": [{"listing_id": app["listing_id"]}]}, sub="carol")
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"
    assert response.data["error"]["details"][0]["field"] == "Idempotency-Key"
    assert fake_gateway.intents == {}
    assert api.get("/orders", sub="carol").data["items"] == []


def test_replay_returns_first_response_and_different_body_conflicts(api, fake_gateway):
    app = publish_app(api, "vendor")
    other = publish_app(api, "vendor")
    first = place_order(api, "carol", [app["listing_id"]], key="k-1")
    again = place_order(api, "carol", [app["listing_id"]], key="k-1")
    assert (again.status_code, again.data) == (201, first.data)
    assert len(fake_gateway.intents) == 1
    conflict = place_order(api, "carol", [other["listing_id"]], key="k-1")
    assert conflict.status_code == 409
    assert conflict.data["error"]["code"] == "idempotency_conflict"
    # The key is the caller's: another customer may use the same string.
    assert place_order(api, "dave", [app["listing_id"]], key="k-1").data["order_id"] != first.data["order_id"]
    assert len(api.get("/orders", sub="carol").data["items"]) == 1


def test_a_refused_request_stores_nothing_under_its_key(api):
    app = publish_app(api, "vendor")
    assert place_order(api, "carol", ["lst_nope"], key="k-2").status_code == 400
    assert place_order(api, "carol", [app["listing_id"]], key="k-2").status_code == 201


@pytest.mark.parametrize("body,field", [
    ({}, "items"),
    ({"items": []}, "items"),
    ({"items": [{"listing_id": f"lst_{i}"} for i in range(21)]}, "items"),
    ({"items": [{"listing_id": "a"}, {"listing_id": "a"}]}, "items"),
    ({"items": [{"listing_id": "a", "qty": 2}]}, "items.0"),
    ({"items": [{"listing_id": ""}]}, "items.0.listing_id"),
    ({"items": "a"}, "items"),
    ({"items": [{"listing_id": "a"}], "coupon": "x"}, "coupon"),
])
def test_bad_order_bodies_are_400(api, body, field):
    response = api.post("/orders", body, sub="carol", headers={"Idempotency-Key": new_key()})
    assert response.status_code == 400, response.body
    assert response.data["error"]["code"] == "validation_error"
    assert any(d["field"].startswith(field) for d in response.data["error"]["details"]), response.data


def test_unpublished_unknown_and_mixed_currency_items_are_refused(api, fake_gateway):
    app = publish_app(api, "vendor")
    euro = publish_app(api, "vendor", currency="eur")
    draft = api.post("/partner/listings", {"type": "app", "name": "Draft", "summary": "x", "category": "analytics",
                                           "price": {"amount": 100, "currency": "usd"}}, sub="vendor").data
    response = place_order(api, "carol", [app["listing_id"], draft["listing_id"], "lst_unknown"])
    assert response.status_code == 400
    assert {d["field"] for d in response.data["error"]["details"]} == {"items.1.listing_id", "items.2.listing_id"}
    mixed = place_order(api, "carol", [app["listing_id"], euro["listing_id"]])
    assert mixed.status_code == 400 and "currency" in mixed.data["error"]["message"]
    assert fake_gateway.intents == {}


def test_an_app_and_a_bundle_holding_it_cannot_share_an_order(api):
    a = publish_app(api, "v1")
    b = publish_app(api, "v1")
    bundle = publish_bundle(api, "v1", [a["listing_id"], b["listing_id"]], price=1500)
    response = place_order(api, "carol", [bundle["listing_id"], a["listing_id"]])
    assert response.status_code == 400


def test_free_order_is_paid_at_once_without_stripe(api, fake_gateway):
    free = publish_app(api, "vendor", price=0)
    response = place_order(api, "carol", [free["listing_id"]])
    assert response.status_code == 201
    assert response.data["status"] == "paid"
    assert response.data["payment"] is None
    assert fake_gateway.calls == []
    owned = api.get(f"/me/entitlements/{free['listing_id']}", sub="carol")
    assert owned.status_code == 200 and owned.data["order_id"] == response.data["order_id"]
    assert "order.placed" in _audit_actions(api, response.data["order_id"])


def test_already_owned_is_409_including_apps_owned_through_a_bundle(api, fake_gateway):
    a = publish_app(api, "v1", price=0)
    b = publish_app(api, "v1", price=500)
    assert place_order(api, "carol", [a["listing_id"]]).data["status"] == "paid"
    again = place_order(api, "carol", [a["listing_id"]])
    assert again.status_code == 409 and again.data["error"]["code"] == "already_owned"
    bundle = publish_bundle(api, "v1", [a["listing_id"], b["listing_id"]], price=400)
    response = place_order(api, "carol", [bundle["listing_id"]])
    assert response.status_code == 409 and response.data["error"]["code"] == "already_owned"
    assert fake_gateway.intents == {}
    # Someone else may still buy it.
    assert place_order(api, "dave", [bundle["listing_id"]]).status_code == 201


def test_stripe_refusal_is_402_and_outage_503_and_nothing_is_stored(api, fake_gateway):
    app = publish_app(api, "vendor")
    fake_gateway.fail_next = PaymentFailed("The payment provider refused the request.")
    refused = place_order(api, "carol", [app["listing_id"]], key="k-3")
    assert refused.status_code == 402 and refused.data["error"]["code"] == "payment_failed"
    fake_gateway.fail_next = UpstreamUnavailable("The payment provider is unavailable; nothing was changed.")
    down = place_order(api, "carol", [app["listing_id"]], key="k-3")
    assert down.status_code == 503 and down.data["error"]["code"] == "upstream_unavailable"
    assert api.get("/orders", sub="carol").data["items"] == []
    assert place_order(api, "carol", [app["listing_id"]], key="k-3").status_code == 201


def test_orders_are_private_to_their_customer_and_visible_to_staff(api):
    app = publish_app(api, "vendor")
    order = place_order(api, "carol", [app["listing_id"]]).data
    assert api.get(f"/orders/{order['order_id']}", sub="carol").status_code == 200
    other = api.get(f"/orders/{order['order_id']}", sub="mallory")
    assert other.status_code == 404 and other.data["error"]["code"] == "not_found"
    assert api.get("/orders", sub="mallory").data["items"] == []
    assert api.get("/orders?customer=carol", sub="mallory").status_code == 404
    assert api.get(f"/orders/{order['order_id']}", **FINANCE).status_code == 200
    assert [o["order_id"] for o in api.get("/orders", **ADMIN).data["items"]] == [order["order_id"]]
    assert [o["order_id"] for o in api.get("/orders?customer=carol", **FINANCE).data["items"]] == [order["order_id"]]
    assert api.get("/orders/ord_missing", sub="carol").status_code == 404
    assert api.get("/orders", sub=None).status_code == 401


def test_order_list_pages_newest_first(api):
    apps = [publish_app(api, "vendor", price=100 + i) for i in range(3)]
    ids = [place_order(api, "carol", [a["listing_id"]]).data["order_id"] for a in apps]
    first = api.get("/orders?limit=2", sub="carol").data
    assert [o["order_id"] for o in first["items"]] == ids[::-1][:2]
    rest = api.get(f"/orders?limit=2&cursor={first['next_cursor']}", sub="carol").data
    assert [o["order_id"] for o in rest["items"]] == ids[:1] and rest["next_cursor"] is None
    assert api.get("/orders?cursor=forged", sub="carol").data["error"]["code"] == "bad_cursor"
    # A cursor is the caller's own.
    assert api.get(f"/orders?limit=2&cursor={first['next_cursor']}", sub="dave").status_code == 400


def test_cancel_only_pending_orders_of_ones_own(api, fake_gateway):
    app = publish_app(api, "vendor")
    order = place_order(api, "carol", [app["listing_id"]]).data
    assert api.post(f"/orders/{order['order_id']}/cancel", sub="mallory").status_code == 404
    canceled = api.post(f"/orders/{order['order_id']}/cancel", sub="carol")
    assert canceled.status_code == 200 and canceled.data["status"] == "canceled"
    assert fake_gateway.intents[order["payment"]["payment_intent_id"]].status == "canceled"
    again = api.post(f"/orders/{order['order_id']}/cancel", sub="carol")
    assert again.status_code == 409 and again.data["error"]["code"] == "invalid_state"
    assert "order.canceled" in _audit_actions(api, order["order_id"])
    # The customer may order it again later.
    assert place_order(api, "carol", [app["listing_id"]]).status_code == 201


def test_cancel_after_payment_is_refused(api, fake_gateway):
    app = publish_app(api, "vendor")
    order = place_order(api, "carol", [app["listing_id"]]).data
    fake_gateway.succeed(order["payment"]["payment_intent_id"])  # paid, webhook not yet arrived
    response = api.post(f"/orders/{order['order_id']}/cancel", sub="carol")
    assert response.status_code == 409
    assert api.get(f"/orders/{order['order_id']}", sub="carol").data["status"] == "pending_payment"


def test_openapi_documents_checkout_routes_with_idempotency_header(api):
    doc = api.get("/openapi.json").data
    post_orders = doc["paths"]["/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post_orders["parameters"])
    refunds = doc["paths"]["/admin/orders/{order_id}/refunds"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in refunds["parameters"])
    assert "post" in doc["paths"]["/webhooks/stripe"]
    assert "get" in doc["paths"]["/me/entitlements/{listing_id}"]


def test_cancel_racing_a_confirmation_is_refused_not_402(api, fake_gateway, monkeypatch):
    app = publish_app(api, "vendor")
    order = place_order(api, "carol", [app["listing_id"]]).data

    def confirmed_meanwhile(payment_intent_id, *, idempotency_key):
        raise PaymentFailed("This PaymentIntent's status is succeeded; it cannot be canceled.")

    monkeypatch.setattr(fake_gateway, "cancel_payment_intent", confirmed_meanwhile)
    response = api.post(f"/orders/{order['order_id']}/cancel", sub="carol")
    assert response.status_code == 409 and response.data["error"]["code"] == "invalid_state"
    assert api.get(f"/orders/{order['order_id']}", sub="carol").data["status"] == "pending_payment"


def test_a_retry_after_a_failed_write_reuses_the_payment_intent(api, fake_gateway, monkeypatch):
    from chalicelib.orders import repository

    app = publish_app(api, "vendor")
    real = repository.put_new
    state = {"fail": True}

    def flaky(tx, order):
        if state.pop("fail", False):
            raise UpstreamUnavailable("The database could not complete the request; nothing was changed.")
        return real(tx, order)

    monkeypatch.setattr(repository, "put_new", flaky)
    assert place_order(api, "carol", [app["listing_id"]], key="k-9").status_code == 503
    retried = place_order(api, "carol", [app["listing_id"]], key="k-9")
    assert retried.status_code == 201
    assert len(fake_gateway.intents) == 1  # Stripe's idempotency gave back the same PaymentIntent


@pytest.mark.parametrize("path", ["/orders/" + "x" * 3000, "/orders/a%20b", "/me/entitlements/" + "y" * 3000])
def test_ids_that_cannot_exist_are_404_not_a_database_error(api, path):
    # Real DynamoDB refuses keys over 1-2 KB (moto does not): such ids must never reach it.
    from tests import ddb_calls

    with ddb_calls.recording() as log:
        response = api.get(path, sub="carol")
    assert response.status_code == 404, response.body
    assert log.count() == 0


def test_refund_and_cancel_of_impossible_ids_are_404(api):
    long_id = "z" * 3000
    assert api.post(f"/orders/{long_id}/cancel", sub="carol").status_code == 404
    assert api.post(f"/admin/orders/{long_id}/refunds", {"reason": "x"}, headers={"Idempotency-Key": "k"},
                    **ADMIN).status_code == 404
