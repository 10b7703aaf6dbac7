"""Partner API keys through the HTTP API: create (secret once), list, revoke, scopes, audit, and a partner's CI
publishing a listing with nothing but a `listings:write` key."""
from __future__ import annotations

import hashlib

import pytest

from tests.factories import ADMIN, approved_partner, apply_partner, pay, place_order, publish_app

VENDOR = "key-vendor"


def create_key(api, sub=VENDOR, scopes=("listings:write",), name="CI"):
    response = api.post("/partner/api-keys", {"name": name, "scopes": list(scopes)}, sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def with_key(api, method, path, secret, body=None):
    return api.call(method, path, body, headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def vendor(api):
    return approved_partner(api, VENDOR)


def test_a_key_is_created_with_its_secret_shown_once_and_stored_only_as_a_hash(api, vendor):
    from chalicelib.apikeys.repository import ApiKeyItem, KEY_SK, key_pk

    created = create_key(api, scopes=["listings:write", "sales:read", "listings:write"][:2])
    assert created["secret"].startswith(f"mpk_{created['key_id']}_")
    assert created["scopes"] == ["listings:write", "sales:read"]
    assert created["name"] == "CI" and created["created_at"].endswith("Z")
    row = ApiKeyItem.get(key_pk(created["key_id"]), KEY_SK)
    assert row.secret_hash == hashlib.sha256(created["secret"].encode()).hexdigest()
    assert created["secret"] not in str(row.attribute_values)
    listed = api.get("/partner/api-keys", sub=VENDOR)
    assert listed.status_code == 200
    [item] = listed.data["items"]
    assert item == {"key_id": created["key_id"], "name": "CI", "scopes": ["listings:write", "sales:read"],
                    "created_at": created["created_at"], "last_used_at": None, "revoked_at": None}
    assert "secret" not in str(listed.body)


def test_bad_bodies_are_400_and_non_partners_404(api, vendor):
    for body in ({"name": "x", "scopes": []}, {"name": "x", "scopes": ["admin"]}, {"name": "x"},
                 {"name": "", "scopes": ["sales:read"]}, {"name": "x", "scopes": ["sales:read"], "extra": 1},
                 {"name": "x", "scopes": ["sales:read", "sales:read"]}):
        response = api.post("/partner/api-keys", body, sub=VENDOR)
        assert response.status_code == 400, body
        assert response.data["error"]["code"] == "validation_error"
    assert api.post("/partner/api-keys", {"name": "x", "scopes": ["sales:read"]}, sub="nobody").status_code == 404
    assert api.get("/partner/api-keys", sub=VENDOR).data["items"] == []


def test_a_partners_ci_creates_edits_and_submits_a_listing_with_a_listings_write_key(api, vendor):
    secret = create_key(api, scopes=["listings:write", "listings:read"])["secret"]
    created = with_key(api, "POST", "/partner/listings", secret,
                       {"type": "app", "name": "CI Built", "summary": "From a pipeline", "category": "analytics",
                        "price": {"amount": 900, "currency": "usd"}})
    assert created.status_code == 201, created.body
    listing_id = created.data["listing_id"]
    assert created.data["partner_id"] == vendor["partner_id"]
    edited = with_key(api, "PATCH", f"/partner/listings/{listing_id}", secret, {"summary": "Edited by CI"})
    assert edited.status_code == 200 and edited.data["summary"] == "Edited by CI"
    submitted = with_key(api, "POST", f"/partner/listings/{listing_id}/submit", secret, {})
    assert submitted.status_code == 200 and submitted.data["status"] == "submitted"
    # the admin approves, then CI proposes a revision of the published listing
    assert api.post(f"/admin/listings/{listing_id}/approve", {}, **ADMIN).status_code == 200
    revised = with_key(api, "PATCH", f"/partner/listings/{listing_id}", secret, {"summary": "Version 2"})
    assert revised.status_code == 200
    mine = with_key(api, "GET", f"/partner/listings/{listing_id}", secret)
    assert mine.status_code == 200 and mine.data["status"] == "published"
    assert mine.data["pending_revision"]["summary"] == "Version 2", mine.data
    # the catalog still shows the live version until the revision is approved
    assert api.get(f"/listings/{listing_id}").data["summary"] == "Edited by CI"


def test_a_key_is_refused_403_outside_its_scopes_and_on_every_non_partner_route(api, vendor):
    secret = create_key(api, scopes=["listings:read"])["secret"]
    assert with_key(api, "GET", "/partner/listings", secret).status_code == 200
    for method, path, body in (
        ("POST", "/partner/listings", {"type": "app"}),  # a scope it lacks: 403 before the body is read
        ("GET", "/partner/balance", None), ("GET", "/partners/me", None), ("GET", "/me/entitlements", None),
        ("GET", "/orders", None), ("POST", "/partner/api-keys", {"name": "x", "scopes": ["listings:read"]}),
        ("GET", "/partner/api-keys", None), ("GET", "/admin/partners", None), ("GET", "/finance/ledger", None),
        ("POST", "/partners", {"display_name": "x"}),
    ):
        response = with_key(api, method, path, secret, body)
        assert response.status_code == 403, (method, path, response.body)
        assert response.data["error"]["code"] == "forbidden"
    assert api.get("/partner/api-keys", sub=VENDOR).data["items"][0]["scopes"] == ["listings:read"]


def test_unknown_malformed_tampered_and_revoked_keys_are_401(api, vendor):
    created = create_key(api, scopes=["sales:read"])
    secret = created["secret"]
    assert with_key(api, "GET", "/partner/balance", secret).status_code == 200
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for bad in ("mpk_", "mpk_nonsense", tampered, "mpk_key_" + "0" * 26 + "_" + "a" * 43, secret + "x"):
        response = with_key(api, "GET", "/partner/balance", bad)
        assert response.status_code == 401, bad
        assert response.data["error"]["code"] == "unauthorized"
    revoked = api.delete(f"/partner/api-keys/{created['key_id']}", sub=VENDOR)
    assert revoked.status_code == 200 and revoked.data["revoked_at"]
    assert with_key(api, "GET", "/partner/balance", secret).status_code == 401
    again = api.delete(f"/partner/api-keys/{created['key_id']}", sub=VENDOR)
    assert again.status_code == 200 and again.data["revoked_at"] == revoked.data["revoked_at"]


def test_a_partner_cannot_see_or_revoke_another_partners_key(api, vendor):
    key = create_key(api)
    approved_partner(api, "key-vendor-2")
    assert api.delete(f"/partner/api-keys/{key['key_id']}", sub="key-vendor-2").status_code == 404
    assert api.get("/partner/api-keys", sub="key-vendor-2").data["items"] == []
    assert api.delete("/partner/api-keys/key_nonsense", sub=VENDOR).status_code == 404
    assert api.get("/partner/api-keys", sub=VENDOR).data["items"][0]["revoked_at"] is None


def test_a_key_acts_as_its_own_partner_only(api, vendor):
    other_app = publish_app(api, "key-vendor-2", name="Not Yours")
    secret = create_key(api, scopes=["listings:read", "listings:write"])["secret"]
    assert with_key(api, "GET", f"/partner/listings/{other_app['listing_id']}", secret).status_code == 404
    assert with_key(api, "POST", f"/partner/listings/{other_app['listing_id']}/unlist", secret, {}).status_code == 404


def test_every_use_is_logged_with_the_key_id_and_writes_are_audited(api, vendor, capsys):
    from chalicelib.audit.repository import list_audit

    key = create_key(api, scopes=["listings:write", "listings:read"])
    assert with_key(api, "GET", "/partner/listings", key["secret"]).status_code == 200
    created = with_key(api, "POST", "/partner/listings", key["secret"],
                       {"type": "app", "name": "Audited", "summary": "s", "category": "analytics",
                        "price": {"amount": 100, "currency": "usd"}})
    assert created.status_code == 201
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if key["key_id"] in line]
    assert any("GET /partner/listings" in line and '"principal":"api_key"' in line.replace(" ", "")
               for line in lines), out[-2000:]
    assert any("POST /partner/listings" in line for line in lines)
    actions = [a.action for a in list_audit(entity_id=key["key_id"], limit=10, cursor=None, scope="t").items]
    assert sorted(actions) == ["apikey.created", "apikey.used"]
    used = next(a for a in list_audit(entity_id=key["key_id"], limit=10, cursor=None, scope="t").items
                if a.action == "apikey.used")
    assert used.data == {"partner_id": vendor["partner_id"], "method": "POST", "route": "/partner/listings",
                         "status": 201}
    assert used.actor == f"apikey:{key['key_id']}"


def test_last_used_at_is_written_at_most_once_a_minute(api, vendor):
    from datetime import timedelta

    from chalicelib.core import clock

    key = create_key(api, scopes=["sales:read"])
    start = clock.now()
    try:
        clock.set_now(lambda: start)
        assert with_key(api, "GET", "/partner/balance", key["secret"]).status_code == 200
        first = api.get("/partner/api-keys", sub=VENDOR).data["items"][0]["last_used_at"]
        assert first == clock.iso(start)
        clock.set_now(lambda: start + timedelta(seconds=30))
        assert with_key(api, "GET", "/partner/balance", key["secret"]).status_code == 200
        assert api.get("/partner/api-keys", sub=VENDOR).data["items"][0]["last_used_at"] == first
        clock.set_now(lambda: start + timedelta(seconds=61))
        assert with_key(api, "GET", "/partner/balance", key["secret"]).status_code == 200
        assert api.get("/partner/api-keys", sub=VENDOR).data["items"][0]["last_used_at"] == clock.iso(
            start + timedelta(seconds=61))
    finally:
        clock.set_now(None)


def test_the_active_key_cap_holds_and_revoking_frees_a_place(api, vendor, monkeypatch):
    from chalicelib.apikeys import model

    monkeypatch.setattr(model, "MAX_ACTIVE_KEYS", 2)
    first = create_key(api)
    create_key(api)
    refused = api.post("/partner/api-keys", {"name": "third", "scopes": ["sales:read"]}, sub=VENDOR)
    assert refused.status_code == 409 and refused.data["error"]["code"] == "conflict"
    assert api.delete(f"/partner/api-keys/{first['key_id']}", sub=VENDOR).status_code == 200
    create_key(api, name="third")
    assert len(api.get("/partner/api-keys", sub=VENDOR).data["items"]) == 3


def test_a_pending_partner_may_create_keys_a_suspended_one_may_not(api):
    apply_partner(api, "key-applicant")
    create_key(api, sub="key-applicant", scopes=["listings:read"])
    suspended = approved_partner(api, "key-suspended")
    assert api.post(f"/admin/partners/{suspended['partner_id']}/suspend", {"reason": "test"},
                    **ADMIN).status_code == 200
    refused = api.post("/partner/api-keys", {"name": "x", "scopes": ["sales:read"]}, sub="key-suspended")
    assert refused.status_code == 409 and refused.data["error"]["code"] == "invalid_state"


def test_a_sales_read_key_reads_balance_statement_and_payouts(api, fake_gateway, vendor):
    app = publish_app(api, VENDOR, name="Sold By Key", price=2000)
    order = place_order(api, "key-buyer", [app["listing_id"]]).data
    assert pay(api, fake_gateway, order).status_code == 200
    secret = create_key(api, scopes=["sales:read"])["secret"]
    balance = with_key(api, "GET", "/partner/balance", secret)
    assert balance.status_code == 200 and balance.data["usd"]["pending"] == 1600, balance.data
    assert with_key(api, "GET", "/partner/statement?from=2026-01-01&to=2026-12-31", secret).status_code == 200
    assert with_key(api, "GET", "/partner/payouts", secret).status_code == 200
