"""Bundles: a partner's bundle of its own apps, an admin's cross-partner bundle, splits and their checks."""
from __future__ import annotations

import pytest

from chalicelib.catalog.queries import get_live_listings
from chalicelib.core.money import Component, Money, split_bundle
from tests.factories import ADMIN, Api, approved_partner, bundle_body, create_listing, publish


@pytest.fixture
def setup(client):
    api = Api(client)
    approved_partner(api, "alice")
    approved_partner(api, "bob")
    a1 = publish(api, "alice", name="Alpha", slug="alpha", price={"amount": 1000, "currency": "usd"})["listing_id"]
    a2 = publish(api, "alice", name="Beta", slug="beta", price={"amount": 3000, "currency": "usd"})["listing_id"]
    b1 = publish(api, "bob", name="Gamma", slug="gamma", price={"amount": 2000, "currency": "usd"})["listing_id"]
    return api, a1, a2, b1


def test_partner_bundle_of_own_apps_publishes_with_components_and_split(setup):
    api, a1, a2, _ = setup
    created = api.post("/partner/listings", bundle_body([a1, a2], split={"method": "weights",
                                                                          "weights": {a1: 1, a2: 3}}), sub="alice")
    assert created.status_code == 201, created.body
    bundle = created.data
    assert [c["listing_id"] for c in bundle["components"]] == [a1, a2]
    assert [c["list_price"] for c in bundle["components"]] == [1000, 3000]
    api.post(f"/partner/listings/{bundle['listing_id']}/submit", {}, sub="alice")
    api.post(f"/admin/listings/{bundle['listing_id']}/approve", {}, **ADMIN)
    assert [c["slug"] for c in api.get("/listings?type=bundle").data["items"]] == ["starter-pack"]
    page = api.get("/listings/starter-pack").data
    assert page["split"] == {"method": "weights", "weights": {a1: 1, a2: 3}} and len(page["components"]) == 2

    live = get_live_listings([bundle["listing_id"], a1, "lst_unknown", "nonsense"])
    assert set(live) == {bundle["listing_id"], a1}
    frozen = live[bundle["listing_id"]]
    assert frozen.type == "bundle" and frozen.price == Money(1500, "usd") and frozen.version == 1
    assert frozen.components[0] == Component(a1, frozen.partner_id, 1000)
    parts = split_bundle(frozen.price.amount, list(frozen.components), frozen.split)
    assert [p.amount for p in parts] == [375, 1125]
    assert live[a1].components == () and live[a1].status == "published"


def test_default_split_is_pro_rata(setup):
    api, a1, a2, _ = setup
    bundle = api.post("/partner/listings", bundle_body([a1, a2]), sub="alice").data
    assert bundle["split"] == {"method": "pro_rata"}


def test_partner_bundle_refuses_foreign_unpublished_bundled_and_other_currency_components(setup):
    api, a1, a2, b1 = setup
    draft = create_listing(api, "alice", name="Draft App", slug="draft-app")["listing_id"]
    eur = publish(api, "alice", name="Euro App", slug="euro-app", price={"amount": 900, "currency": "eur"})
    own_bundle = api.post("/partner/listings", bundle_body([a1, a2], slug="own-pack"), sub="alice").data
    api.post(f"/partner/listings/{own_bundle['listing_id']}/submit", {}, sub="alice")
    api.post(f"/admin/listings/{own_bundle['listing_id']}/approve", {}, **ADMIN)
    for components, message in (
        ([a1, b1], "only its own apps"),
        ([a1, draft], "not a published app"),
        ([a1, eur["listing_id"]], "priced in eur"),
        ([a1, own_bundle["listing_id"]], "bundle cannot contain a bundle"),
        ([a1, "lst_00000000000000000000000000"], "not a published app"),
    ):
        response = api.post("/partner/listings", bundle_body(components, slug="bad-pack"), sub="alice")
        assert response.status_code == 400, components
        assert response.data["error"]["code"] == "validation_error"
        assert any(message in d["message"] for d in response.data["error"]["details"]), response.data
    assert api.get("/listings/bad-pack").status_code == 404
    assert len(api.get("/partner/listings?limit=100", sub="alice").data["items"]) == 5


@pytest.mark.parametrize("split,field", [
    ({"method": "weights", "weights": {}}, "split"),
    ({"method": "weights"}, "split"),
    ({"method": "even"}, "split"),
    ({"method": "pro_rata", "weights": {}}, "split"),
])
def test_split_shape_is_validated(setup, split, field):
    api, a1, a2, _ = setup
    response = api.post("/partner/listings", bundle_body([a1, a2], split=split), sub="alice")
    assert response.status_code == 400
    assert any(d["field"].startswith(field) for d in response.data["error"]["details"])


def test_weights_must_cover_every_component_with_positive_integers(setup):
    api, a1, a2, _ = setup
    for weights in ({"x": 1}, {a1: 1}, {a1: 1, a2: 0}, {a1: 1, a2: 2, "lst_00000000000000000000000000": 1}):
        response = api.post("/partner/listings", bundle_body([a1, a2], split={"method": "weights",
                                                                              "weights": weights}), sub="alice")
        assert response.status_code == 400, weights


def test_bundle_needs_two_distinct_components_and_apps_have_none(setup):
    api, a1, _, _ = setup
    assert api.post("/partner/listings", bundle_body([a1]), sub="alice").status_code == 400
    assert api.post("/partner/listings", bundle_body([a1, a1]), sub="alice").status_code == 400
    no_components = bundle_body([a1])
    del no_components["components"]
    assert api.post("/partner/listings", no_components, sub="alice").status_code == 400
    app_with_components = api.post("/partner/listings", {**bundle_body([a1, a1]), "type": "app"}, sub="alice")
    assert app_with_components.status_code == 400


def test_submitting_a_bundle_whose_component_left_the_catalog_is_refused(setup):
    api, a1, a2, _ = setup
    bundle = api.post("/partner/listings", bundle_body([a1, a2]), sub="alice").data
    api.post(f"/partner/listings/{a2}/unlist", {}, sub="alice")
    response = api.post(f"/partner/listings/{bundle['listing_id']}/submit", {}, sub="alice")
    assert response.status_code == 409 and response.data["error"]["code"] == "invalid_state"
    assert api.get(f"/partner/listings/{bundle['listing_id']}", sub="alice").data["status"] == "draft"


def test_admin_cross_partner_bundle_is_published_by_the_marketplace(setup):
    api, a1, _, b1 = setup
    body = {k: v for k, v in bundle_body([a1, b1], name="Power Duo", slug="power-duo").items() if k != "type"}
    response = api.post("/admin/bundles", body, **ADMIN)
    assert response.status_code == 201, response.body
    bundle = response.data
    assert bundle["status"] == "published" and bundle["partner_id"] == "platform"
    assert {c["partner_id"] for c in bundle["components"]} == {
        api.get("/partners/me", sub="alice").data["partner_id"], api.get("/partners/me", sub="bob").data["partner_id"]}
    page = api.get("/listings/power-duo").data
    assert page["partner_name"] == "Marketplace"
    assert [c["slug"] for c in api.get("/listings?type=bundle").data["items"]] == ["power-duo"]
    assert api.get("/listings?partner_id=platform").data["items"][0]["partner_name"] == "Marketplace"
    actions = [r["action"] for r in api.get(f"/admin/audit?entity_id={bundle['listing_id']}", **ADMIN).data["items"]]
    assert actions == ["listing.bundle_created_by_admin"]


def test_admin_bundle_is_admin_only_and_validated(setup):
    api, a1, _, b1 = setup
    body = {k: v for k, v in bundle_body([a1, b1]).items() if k != "type"}
    assert api.post("/admin/bundles", body, sub="alice").status_code == 403
    bad = api.post("/admin/bundles", {**body, "price": {"amount": 100, "currency": "gbp"}}, **ADMIN)
    assert bad.status_code == 400
    # the partner's bundle body, `type: "bundle"` included, is accepted (the contract); any other type is not
    assert api.post("/admin/bundles", {**body, "type": "app"}, **ADMIN).status_code == 400
    assert api.get("/listings?type=bundle").data["items"] == []
