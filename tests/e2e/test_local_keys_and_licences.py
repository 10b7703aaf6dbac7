"""Partner pathways on the real `make run` stack (moto_server, localstripe, `chalice local`): a partner's key
publishes a listing revision, a customer pays through localstripe, the licence verifies offline with PyJWT
against the JWKS fetched over HTTP and online as active, stops being active after a full refund, and a
revoked key answers 401. This is issue 15's walk for keys and licences, as a new user would take it."""
from __future__ import annotations

import json
import time
import urllib.request
import uuid

import jwt
import pytest

from tests.localstack import running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "run_local.log", startup_seconds=180) as running:  # seeding ~20-40 s
        yield running


def _paid(stack, buyer: str, listing_id: str) -> dict:
    status, order = stack.call("POST", "/orders", token=buyer, body={"items": [{"listing_id": listing_id}]},
                               headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, order
    pi_id = order["payment"]["payment_intent_id"]
    assert stack.stripe_post(f"/v1/payment_intents/{pi_id}", {"payment_method": "pm_card_visa"})[0] == 200
    status, body = stack.stripe_post(f"/v1/payment_intents/{pi_id}/confirm")
    assert status == 200 and body["status"] == "succeeded", body
    for _ in range(100):  # localstripe's signed webhook arrives about a second later
        status, stored = stack.call("GET", f"/orders/{order['order_id']}", token=buyer)
        if stored.get("status") == "paid":
            return order
        time.sleep(0.1)
    raise AssertionError(f"the order was not paid by localstripe's webhook: {stored}")


def test_a_key_publishes_a_licence_verifies_and_a_refund_and_a_revocation_take_effect(stack):
    owner, admin = stack.token("acme-owner"), stack.token("e2e-admin", "admin")
    buyer = stack.token(f"e2e-licensee-{uuid.uuid4().hex[:8]}")
    status, created = stack.call("POST", "/partner/api-keys", token=owner,
                                 body={"name": "CI", "scopes": ["listings:write", "listings:read", "licences:read"]})
    assert status == 201, created
    key = created["secret"]

    # the partner's CI: a draft, edited and submitted with the key only; an admin approves it
    status, draft = stack.call("POST", "/partner/listings", token=key, body={
        "type": "app", "name": f"Licensed {uuid.uuid4().hex[:6]}", "summary": "Built by CI",
        "category": "developer-tools", "price": {"amount": 1200, "currency": "usd"}})
    assert status == 201, draft
    listing_id = draft["listing_id"]
    assert stack.call("PATCH", f"/partner/listings/{listing_id}", token=key, body={"summary": "v1"})[0] == 200
    assert stack.call("POST", f"/partner/listings/{listing_id}/submit", token=key, body={})[0] == 200
    assert stack.call("POST", f"/admin/listings/{listing_id}/approve", token=admin, body={})[0] == 200
    status, revision = stack.call("PATCH", f"/partner/listings/{listing_id}", token=key, body={"summary": "v2"})
    assert status == 200, revision
    assert stack.call("GET", "/partner/balance", token=key)[0] == 403  # not in the key's scopes

    order = _paid(stack, buyer, listing_id)
    status, got = stack.call("GET", f"/me/entitlements/{listing_id}/licence", token=buyer)
    assert status == 200, got

    # offline, as the partner's app would: PyJWT and the JWKS over HTTP
    with urllib.request.urlopen(f"{stack.api}/.well-known/jwks.json", timeout=10) as response:
        jwks = jwt.PyJWKSet.from_dict(json.loads(response.read()))
    kid = jwt.get_unverified_header(got["licence"])["kid"]
    status, partner = stack.call("GET", "/partners/me", token=owner)
    claims = jwt.decode(got["licence"], jwks[kid].key, algorithms=["ES256"], audience=partner["partner_id"])
    assert claims["listing_id"] == listing_id and claims["sub"].startswith("cref_")

    status, verified = stack.call("POST", "/partner/licences/verify", token=key, body={"licence": got["licence"]})
    assert status == 200 and verified["active"] is True, verified
    status, holders = stack.call("GET", f"/partner/licences?listing_id={listing_id}", token=key)
    assert status == 200 and [h["customer"] for h in holders["items"]] == [claims["sub"]], holders

    status, refund = stack.call("POST", f"/admin/orders/{order['order_id']}/refunds", token=admin,
                                body={"reason": "e2e full refund"}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, refund
    status, verified = stack.call("POST", "/partner/licences/verify", token=key, body={"licence": got["licence"]})
    assert status == 200 and verified["active"] is False, verified
    jwt.decode(got["licence"], jwks[kid].key, algorithms=["ES256"], audience=partner["partner_id"])  # offline: valid

    assert stack.call("DELETE", f"/partner/api-keys/{created['key_id']}", token=owner)[0] == 200
    status, body = stack.call("GET", "/partner/listings", token=key)
    assert status == 401 and body["error"]["code"] == "unauthorized", body
