"""Licences through the HTTP API: a customer's licence for an app they hold (directly or by bundle), offline
verification with PyJWT against the JWKS, online verification, the holders list, and revocation by refund."""
from __future__ import annotations

import jwt
import pytest

from tests.factories import ADMIN, approved_partner, pay, place_order, publish_app, publish_bundle, request_refund

VENDOR, OTHER_VENDOR, BUYER = "lic-vendor", "lic-vendor-2", "lic-buyer"


@pytest.fixture
def bought(api, fake_gateway):
    """The vendor's app, bought and paid by BUYER."""
    approved_partner(api, VENDOR)
    app = publish_app(api, VENDOR, name="Licensed App", price=1500)
    order = place_order(api, BUYER, [app["listing_id"]]).data
    assert pay(api, fake_gateway, order).status_code == 200
    return {"app": app, "order": order, "partner_id": app["partner_id"]}


def licence_of(api, listing_id, sub=BUYER):
    response = api.get(f"/me/entitlements/{listing_id}/licence", sub=sub)
    assert response.status_code == 200, response.body
    return response.data


def key_for(api, sub=VENDOR, scopes=("licences:read",)):
    created = api.post("/partner/api-keys", {"name": "licensing", "scopes": list(scopes)}, sub=sub)
    assert created.status_code == 201, created.body
    return created.data["secret"]


def verify(api, licence, *, sub=VENDOR, secret=None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return api.call("POST", "/partner/licences/verify", {"licence": licence}, sub=None if secret else sub,
                    headers=headers)


def test_a_licence_verifies_offline_with_pyjwt_against_the_jwks(api, bought):
    from chalicelib.core.pseudonyms import customer_ref

    got = licence_of(api, bought["app"]["listing_id"])
    jwks = api.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and "max-age" in jwks.headers["Cache-Control"]
    keys = jwt.PyJWKSet.from_dict(jwks.data)
    header = jwt.get_unverified_header(got["licence"])
    assert header["alg"] == "ES256"
    claims = jwt.decode(got["licence"], keys[header["kid"]].key, algorithms=["ES256"],
                        audience=bought["partner_id"], issuer="https://marketplace.local")
    assert claims["sub"] == customer_ref(bought["partner_id"], BUYER) and claims["sub"].startswith("cref_")
    assert BUYER not in got["licence"] and claims["listing_id"] == bought["app"]["listing_id"]
    assert 0 < claims["exp"] - claims["iat"] <= 24 * 3600
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(got["licence"], keys[header["kid"]].key, algorithms=["ES256"], audience="ptn_someone_else")


def test_online_verify_is_active_until_a_full_refund_revokes_the_entitlement(api, bought):
    got = licence_of(api, bought["app"]["listing_id"])
    answer = verify(api, got["licence"])
    assert answer.status_code == 200, answer.body
    assert answer.data == {"active": True, "listing_id": bought["app"]["listing_id"],
                           "customer": jwt.decode(got["licence"], options={"verify_signature": False})["sub"],
                           "expires_at": got["expires_at"]}
    refund = request_refund(api, bought["order"]["order_id"], {"reason": "changed mind"})
    assert refund.status_code == 201, refund.body
    after = verify(api, got["licence"])
    assert after.status_code == 200 and after.data["active"] is False
    assert after.data["listing_id"] == bought["app"]["listing_id"]
    assert api.get(f"/me/entitlements/{bought['app']['listing_id']}/licence", sub=BUYER).status_code == 404


def test_verify_with_a_licences_read_key_and_refusals(api, bought):
    got = licence_of(api, bought["app"]["listing_id"])
    assert verify(api, got["licence"], secret=key_for(api)).data["active"] is True
    wrong_scope = verify(api, got["licence"], secret=key_for(api, scopes=("sales:read",)))
    assert wrong_scope.status_code == 403
    # another partner learns nothing from a licence addressed to someone else
    approved_partner(api, OTHER_VENDOR)
    foreign = verify(api, got["licence"], sub=OTHER_VENDOR)
    assert foreign.data == {"active": False, "listing_id": None, "customer": None, "expires_at": None}
    # tampered, garbage, or signed by a key that is not ours: inactive, never a 5xx
    head, payload, sig = got["licence"].split(".")
    # Change a whole character inside the signature: the last one carries only 2 bits (an "AA" ending could
    # decode to the same bytes, 1 run in 256), so tampering there did not always tamper.
    tampered = sig[:10] + ("B" if sig[10] != "B" else "C") + sig[11:]
    for bad in (f"{head}.{payload}.{tampered}", "not-a-jwt", "a.b.c", "x" * 4096,
                jwt.encode({"aud": bought["partner_id"], "sub": "cref_x", "listing_id": "l", "iat": 1,
                            "exp": 4102444800, "iss": "https://marketplace.local"}, "secret-but-long-enough-32-bytes!",
                           algorithm="HS256")):
        answer = verify(api, bad)
        assert answer.status_code == 200 and answer.data["active"] is False, bad
    assert verify(api, "x" * 4097).status_code == 400
    assert verify(api, got["licence"], sub="not-a-partner").status_code == 404


def test_an_expired_licence_is_inactive_but_still_names_its_subject(api, bought):
    from datetime import timedelta

    from chalicelib.core import clock

    got = licence_of(api, bought["app"]["listing_id"])
    later = clock.now() + timedelta(hours=24, seconds=1)
    try:
        clock.set_now(lambda: later)
        answer = verify(api, got["licence"]).data
    finally:
        clock.set_now(None)
    assert answer["active"] is False and answer["listing_id"] == bought["app"]["listing_id"]
    assert answer["expires_at"] == got["expires_at"]


def test_a_bundle_owner_gets_each_apps_licence_not_the_bundles(api, fake_gateway):
    approved_partner(api, VENDOR)
    first = publish_app(api, VENDOR, name="First", price=1000)
    second = publish_app(api, VENDOR, name="Second", price=1000)
    bundle = publish_bundle(api, VENDOR, [first["listing_id"], second["listing_id"]], price=1500)
    order = place_order(api, BUYER, [bundle["listing_id"]]).data
    assert pay(api, fake_gateway, order).status_code == 200
    for app in (first, second):
        claims = jwt.decode(licence_of(api, app["listing_id"])["licence"], options={"verify_signature": False})
        assert claims["listing_id"] == app["listing_id"] and claims["aud"] == first["partner_id"]
    refused = api.get(f"/me/entitlements/{bundle['listing_id']}/licence", sub=BUYER)
    assert refused.status_code == 409 and refused.data["error"]["code"] == "invalid_state"
    holders = api.get(f"/partner/licences?listing_id={first['listing_id']}", sub=VENDOR).data["items"]
    assert [h["via"] for h in holders] == ["order"]


def test_not_owned_or_unknown_listings_have_no_licence(api, bought):
    for sub, listing_id in ((BUYER, "lst_unknown"), ("lic-stranger", bought["app"]["listing_id"]),
                            (BUYER, "bad%20id")):
        response = api.get(f"/me/entitlements/{listing_id}/licence", sub=sub)
        assert response.status_code == 404, (sub, listing_id)
    assert api.get(f"/me/entitlements/{bought['app']['listing_id']}/licence").status_code == 401


def test_the_holders_list_shows_current_holders_by_their_per_partner_id(api, bought, fake_gateway):
    from chalicelib.core.pseudonyms import customer_ref

    listing_id = bought["app"]["listing_id"]
    second = place_order(api, "lic-buyer-2", [listing_id]).data
    assert pay(api, fake_gateway, second).status_code == 200
    page = api.get(f"/partner/licences?listing_id={listing_id}&limit=1", sub=VENDOR)
    assert page.status_code == 200 and len(page.data["items"]) == 1 and page.data["next_cursor"]
    rest = api.get(f"/partner/licences?listing_id={listing_id}&limit=1&cursor={page.data['next_cursor']}",
                   sub=VENDOR).data
    customers = [h["customer"] for h in page.data["items"] + rest["items"]]
    assert sorted(customers) == sorted(customer_ref(bought["partner_id"], s) for s in (BUYER, "lic-buyer-2"))
    assert all(h["listing_id"] == listing_id and h["via"] == "order" and h["granted_at"]
               for h in page.data["items"] + rest["items"])
    # a full refund drops the holder
    assert request_refund(api, bought["order"]["order_id"], {"reason": "refund"}).status_code == 201
    after = api.get(f"/partner/licences?listing_id={listing_id}", sub=VENDOR).data["items"]
    assert [h["customer"] for h in after] == [customer_ref(bought["partner_id"], "lic-buyer-2")]
    # another partner's listing, an unknown one, a tampered cursor, no listing_id
    approved_partner(api, OTHER_VENDOR)
    assert api.get(f"/partner/licences?listing_id={listing_id}", sub=OTHER_VENDOR).status_code == 404
    assert api.get("/partner/licences?listing_id=lst_nope", sub=VENDOR).status_code == 404
    assert api.get(f"/partner/licences?listing_id={listing_id}&cursor=abc", sub=VENDOR).status_code == 400
    assert api.get("/partner/licences", sub=VENDOR).status_code == 400
    assert api.get(f"/partner/licences?listing_id={listing_id}", sub=ADMIN["sub"],
                   groups=ADMIN["groups"]).status_code == 404


def test_the_local_signing_key_is_made_once_and_shared(api, bought):
    from chalicelib.licences import signing

    signing.forget_keys()  # this process read a key from an earlier test's table: start as a fresh process
    first = api.get("/.well-known/jwks.json").data
    signing.forget_keys()  # another process: it reads the stored key instead of making one
    assert api.get("/.well-known/jwks.json").data == first
    assert len(first["keys"]) == 1 and first["keys"][0]["kty"] == "EC"
    assert "d" not in first["keys"][0]


def test_a_subscription_held_app_is_licensed_until_its_access_ends_and_listed_as_subscription(api):
    """The subscription writes its rows through `entitlements.hold_for_subscription` (the subscriptions
    aggregate's path); here that step is taken directly, to see what licences make of such a row."""
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.db.transact import transaction
    from chalicelib.entitlements import repository as entitlements
    from chalicelib.entitlements.model import SubscriptionGrant

    approved_partner(api, VENDOR)
    app = publish_app(api, VENDOR, name="Subscribed App", price=900)
    access_ends = clock.now() + timedelta(hours=3)
    with transaction() as tx:
        entitlements.hold_for_subscription(tx, BUYER, [SubscriptionGrant(app["listing_id"], "app", "Subscribed App")],
                                           subscription_id="sub_test", expires_at=clock.iso(access_ends),
                                           at=clock.now_iso())
    got = licence_of(api, app["listing_id"])
    claims = jwt.decode(got["licence"], options={"verify_signature": False})
    assert claims["exp"] == int(access_ends.replace(microsecond=0).timestamp())
    assert verify(api, got["licence"]).data["active"] is True
    [holder] = api.get(f"/partner/licences?listing_id={app['listing_id']}", sub=VENDOR).data["items"]
    assert holder["via"] == "subscription"
    try:  # the access lapses (the subscription's end not yet processed): neither held nor listed
        clock.set_now(lambda: access_ends - timedelta(seconds=1) + timedelta(seconds=2))
        assert api.get(f"/partner/licences?listing_id={app['listing_id']}", sub=VENDOR).data["items"] == []
        assert api.get(f"/me/entitlements/{app['listing_id']}/licence", sub=BUYER).status_code == 404
    finally:
        clock.set_now(None)
