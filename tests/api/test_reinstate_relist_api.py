"""Undoing suspensions through the HTTP layer: reinstate a partner, relist a listing; admin bundles' `type`.

A suspension hides a partner's listings one by one; reinstating the partner brings none of them back (an
admin relists each, after looking at it again), and a listing cannot be relisted while its partner is still
suspended. Each undo is audited and refused (409 `invalid_state`, nothing changed) from any other state.
"""
from __future__ import annotations

from tests.factories import ADMIN, Api, approved_partner, publish_admin_bundle, publish_app, publish_bundle

REASON = {"reason": "Appeal accepted"}


def _catalog_ids(api: Api) -> set[str]:
    return {c["listing_id"] for c in api.get("/listings?limit=50").data["items"]}


def _audit_actions(api: Api, entity_id: str) -> list[str]:
    return [r["action"] for r in api.get(f"/admin/audit?entity_id={entity_id}&limit=100", **ADMIN).data["items"]]


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.body
    return response.data


def test_reinstated_partner_gets_its_listings_back_only_when_each_is_relisted(api, jobs):
    partner = approved_partner(api, "vera")["partner_id"]
    first = publish_app(api, "vera", name="Vera One")["listing_id"]
    second = publish_app(api, "vera", name="Vera Two")["listing_id"]
    assert {first, second} <= _catalog_ids(api)

    suspended = _ok(api.post(f"/admin/partners/{partner}/suspend", {"reason": "chargebacks"}, **ADMIN))
    assert suspended["status"] == "suspended"
    jobs()  # the suspension hides the partner's listings through a queued job
    assert not {first, second} & _catalog_ids(api)

    # while the partner is suspended, its listings cannot come back
    refused = api.post(f"/admin/listings/{first}/relist", REASON, **ADMIN)
    assert refused.status_code == 409 and refused.data["error"]["code"] == "invalid_state", refused.body
    assert _ok(api.get(f"/admin/listings/{first}", **ADMIN))["status"] == "suspended"

    reinstated = _ok(api.post(f"/admin/partners/{partner}/reinstate", REASON, **ADMIN))
    assert reinstated["status"] == "approved"
    assert _ok(api.get("/partners/me", sub="vera"))["status"] == "approved"
    assert not {first, second} & _catalog_ids(api), "reinstating must not relist anything by itself"
    assert api.get(f"/listings/{first}").status_code == 404

    relisted = _ok(api.post(f"/admin/listings/{first}/relist", REASON, **ADMIN))
    assert relisted["status"] == "published" and relisted["status_reason"] is None
    assert first in _catalog_ids(api) and second not in _catalog_ids(api)
    assert _ok(api.get(f"/listings/{first}"))["name"] == "Vera One"
    assert api.get(f"/listings/{second}").status_code == 404

    assert sorted(_audit_actions(api, partner)) == ["partner.applied", "partner.approved", "partner.reinstated",
                                                    "partner.suspended"]
    assert "listing.relisted" in _audit_actions(api, first)
    record = [r for r in api.get(f"/admin/audit?entity_id={first}&limit=100", **ADMIN).data["items"]
              if r["action"] == "listing.relisted"][0]
    assert record["reason"] == REASON["reason"]

    # the reinstated partner trades again: it can submit new listings
    assert publish_app(api, "vera", name="Vera Three")["status"] == "published"


def test_reinstate_and_relist_refuse_other_states_and_change_nothing(api):
    partner = approved_partner(api, "walt")["partner_id"]
    listing = publish_app(api, "walt", name="Walt App")["listing_id"]

    for path in (f"/admin/partners/{partner}/reinstate", f"/admin/listings/{listing}/relist"):
        before = _audit_actions(api, partner) + _audit_actions(api, listing)
        refused = api.post(path, REASON, **ADMIN)
        assert refused.status_code == 409 and refused.data["error"]["code"] == "invalid_state", refused.body
        assert _audit_actions(api, partner) + _audit_actions(api, listing) == before
    assert _ok(api.get(f"/admin/partners/{partner}", **ADMIN))["status"] == "approved"
    assert _ok(api.get(f"/admin/listings/{listing}", **ADMIN))["status"] == "published"

    # a reason is required; unknown ids are 404
    assert api.post(f"/admin/listings/{listing}/relist", {}, **ADMIN).status_code == 400
    assert api.post(f"/admin/partners/{partner}/reinstate", {}, **ADMIN).status_code == 400
    assert api.post("/admin/partners/ptn_NOPE/reinstate", REASON, **ADMIN).status_code == 404
    assert api.post("/admin/listings/lst_NOPE/relist", REASON, **ADMIN).status_code == 404

    # relisting twice: the second is refused, the listing stays published once
    _ok(api.post(f"/admin/listings/{listing}/suspend", {"reason": "broken download"}, **ADMIN))
    _ok(api.post(f"/admin/listings/{listing}/relist", REASON, **ADMIN))
    again = api.post(f"/admin/listings/{listing}/relist", REASON, **ADMIN)
    assert again.status_code == 409, again.body
    assert _audit_actions(api, listing).count("listing.relisted") == 1
    assert [c for c in api.get("/listings?limit=50").data["items"] if c["listing_id"] == listing] != []


def test_relisting_a_bundle_needs_its_components_published(api):
    a = publish_app(api, "xena", name="Xena A", price=600)["listing_id"]
    b = publish_app(api, "xena", name="Xena B", price=400)["listing_id"]
    bundle = publish_bundle(api, "xena", [a, b], price=800)["listing_id"]
    _ok(api.post(f"/admin/listings/{bundle}/suspend", {"reason": "review"}, **ADMIN))
    _ok(api.post(f"/admin/listings/{a}/suspend", {"reason": "review"}, **ADMIN))

    refused = api.post(f"/admin/listings/{bundle}/relist", REASON, **ADMIN)
    assert refused.status_code == 409 and refused.data["error"]["code"] == "invalid_state", refused.body
    assert _ok(api.get(f"/admin/listings/{bundle}", **ADMIN))["status"] == "suspended"

    _ok(api.post(f"/admin/listings/{a}/relist", REASON, **ADMIN))
    relisted = _ok(api.post(f"/admin/listings/{bundle}/relist", REASON, **ADMIN))
    assert relisted["status"] == "published"
    assert bundle in _catalog_ids(api)


def test_admin_bundle_accepts_the_partner_bundle_body_with_type(api):
    a = publish_app(api, "yuri", name="Yuri A", price=600)["listing_id"]
    b = publish_app(api, "zoe", name="Zoe B", price=400)["listing_id"]
    body = {"type": "bundle", "name": "Two Vendors", "summary": "Apps of two vendors", "category": "analytics",
            "price": {"amount": 900, "currency": "usd"}, "components": [a, b]}
    created = _ok(api.post("/admin/bundles", body, **ADMIN), 201)
    assert created["type"] == "bundle" and created["status"] == "published"
    assert created["listing_id"] in _catalog_ids(api)

    wrong = api.post("/admin/bundles", {**body, "type": "app", "name": "Not A Bundle"}, **ADMIN)
    assert wrong.status_code == 400 and wrong.data["error"]["code"] == "validation_error", wrong.body
    assert any(d["field"] == "type" for d in wrong.data["error"]["details"]), wrong.data
    # without `type` it still works (the marketplace's bundles are always bundles)
    assert publish_admin_bundle(api, [a, b], price=700)["type"] == "bundle"
