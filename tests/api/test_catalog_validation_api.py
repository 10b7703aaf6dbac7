"""Bad input to the listing routes gets its documented 4xx and changes nothing."""
from __future__ import annotations

import pytest

from tests.factories import ADMIN, Api, app_body, approved_partner, create_listing, publish


@pytest.fixture
def api(client):
    api = Api(client)
    approved_partner(api, "alice")
    return api


def _count(api):
    return len(api.get("/partner/listings?limit=100", sub="alice").data["items"])


@pytest.mark.parametrize("overrides,fields", [
    ({"category": "gardening"}, {"category"}),
    ({"type": "plugin"}, {"type"}),
    ({"price": {"amount": 100, "currency": "jpy"}}, {"price.currency"}),
    ({"price": {"amount": -1, "currency": "usd"}}, {"price.amount"}),
    ({"price": {"amount": 10.5, "currency": "usd"}}, {"price.amount"}),
    ({"price": {"amount": 100}}, {"price.currency"}),
    ({"name": "x" * 81}, {"name"}),
    ({"name": "   "}, {"name"}),
    ({"summary": "s" * 201}, {"summary"}),
    ({"description": "d" * 5001}, {"description"}),
    ({"tags": [f"t{i}" for i in range(11)]}, {"tags"}),
    ({"tags": ["x" * 31]}, {"tags.0"}),
    ({"tags": ["dup", "dup"]}, {"tags"}),
    ({"slug": "Not A Slug"}, {"slug"}),
    ({"slug": "-leading"}, {"slug"}),
    ({"slug": "s" * 61}, {"slug"}),
    ({"status": "published"}, {"status"}),
    ({"version": 7}, {"version"}),
    ({"name": None, "summary": None}, {"name", "summary"}),
])
def test_create_rejects_bad_fields_by_name(api, overrides, fields):
    response = api.post("/partner/listings", app_body(**overrides), sub="alice")
    assert response.status_code == 400, response.body
    assert response.data["error"]["code"] == "validation_error"
    assert {d["field"] for d in response.data["error"]["details"]} >= fields
    assert _count(api) == 0


def test_duplicate_slug_is_a_conflict_and_changes_nothing(api):
    approved_partner(api, "bob")
    create_listing(api, "alice", slug="shared-name")
    response = api.post("/partner/listings", app_body(slug="shared-name", name="Other"), sub="bob")
    assert response.status_code == 409 and response.data["error"]["code"] == "conflict"
    assert response.data["error"]["details"][0]["field"] == "slug"
    assert api.get("/partner/listings", sub="bob").data["items"] == []


def test_a_derived_slug_that_is_taken_gets_a_suffix(api):
    first = create_listing(api, "alice", slug=None)
    second = create_listing(api, "alice", slug=None)
    assert first["slug"] == "chart-wizard"
    assert second["slug"].startswith("chart-wizard-") and second["slug"] != first["slug"]


def test_changing_a_draft_slug_frees_the_old_one(api):
    lid = create_listing(api, "alice", slug="first-slug")["listing_id"]
    other = create_listing(api, "alice", slug="second-slug")["listing_id"]
    taken = api.patch(f"/partner/listings/{other}", {"slug": "first-slug"}, sub="alice")
    assert taken.status_code == 409
    assert api.get(f"/partner/listings/{other}", sub="alice").data["slug"] == "second-slug"
    assert api.patch(f"/partner/listings/{lid}", {"slug": "renamed"}, sub="alice").data["slug"] == "renamed"
    assert api.patch(f"/partner/listings/{other}", {"slug": "first-slug"}, sub="alice").status_code == 200
    publish(api, "alice", slug="renamed-2", name="Check")
    assert api.get("/listings/renamed-2").status_code == 200


@pytest.mark.parametrize("body", [{}, {"type": "bundle"}, {"status": "published"}, {"name": "x" * 81},
                                  {"components": ["lst_a", "lst_b"]}, {"price": {"amount": 1, "currency": "xxx"}}])
def test_patch_rejects_bad_bodies(api, body):
    lid = create_listing(api, "alice")["listing_id"]
    response = api.patch(f"/partner/listings/{lid}", body, sub="alice")
    assert response.status_code == 400, body
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["name"] == "Chart Wizard"


def test_revision_with_bad_input_leaves_no_revision(api):
    lid = publish(api, "alice")["listing_id"]
    assert api.patch(f"/partner/listings/{lid}", {"category": "nope"}, sub="alice").status_code == 400
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["pending_revision"] is None
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []


@pytest.mark.parametrize("path,body", [
    ("/admin/listings/{id}/reject", {"reason": ""}),
    ("/admin/listings/{id}/reject", {"reason": "   "}),
    ("/admin/listings/{id}/reject", {"reason": "ok", "extra": 1}),
    ("/admin/listings/{id}/approve", {"unknown": True}),
    ("/partner/listings/{id}/submit", {"force": True}),
])
def test_action_bodies_are_validated(api, path, body):
    lid = create_listing(api, "alice")["listing_id"]
    api.post(f"/partner/listings/{lid}/submit", {}, sub="alice")
    who = {"sub": "alice"} if path.startswith("/partner") else ADMIN
    response = api.post(path.format(id=lid), body, **who)
    assert response.status_code == 400
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["status"] == "submitted"


def test_malformed_json_and_oversized_body(api):
    assert api.post("/partner/listings", raw="{nope", sub="alice").status_code == 400
    big = api.post("/partner/listings", raw='{"name": "' + "x" * (256 * 1024) + '"}', sub="alice")
    assert big.status_code == 413
    assert _count(api) == 0
