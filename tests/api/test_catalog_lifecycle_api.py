"""Listing lifecycle through the HTTP layer: drafts, submission review, revisions, unlist, suspend."""
from __future__ import annotations

import pytest

from tests.factories import ADMIN, Api, app_body, apply_partner, approved_partner, create_listing, publish


@pytest.fixture
def api(client):
    api = Api(client)
    approved_partner(api, "alice")
    return api


def _catalog_ids(api, query=""):
    return [c["listing_id"] for c in api.get(f"/listings{query}").data["items"]]


def _audit_actions(api, listing_id):
    return [r["action"] for r in api.get(f"/admin/audit?entity_id={listing_id}", **ADMIN).data["items"]]


def test_new_user_flow_draft_submit_approve_edit_and_revision_approval(api):
    draft = create_listing(api, "alice")
    lid = draft["listing_id"]
    assert draft["status"] == "draft" and draft["version"] == 1 and draft["slug"] == "chart-wizard"
    assert _catalog_ids(api) == []
    assert api.get(f"/listings/{lid}").status_code == 404

    assert api.post(f"/partner/listings/{lid}/submit", {}, sub="alice").data["status"] == "submitted"
    queue = api.get("/admin/review-queue", **ADMIN).data["items"]
    assert [(q["kind"], q["listing_id"]) for q in queue] == [("submission", lid)]
    assert {c["field"] for c in queue[0]["changes"]} >= {"name", "price", "category"}

    published = api.post(f"/admin/listings/{lid}/approve", {}, **ADMIN).data
    assert published["status"] == "published" and published["published_at"]
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []
    assert _catalog_ids(api) == [lid]

    edited = api.patch(f"/partner/listings/{lid}", {"name": "Chart Wizard Pro", "price": {"amount": 1500,
                                                                                         "currency": "usd"}},
                       sub="alice")
    assert edited.status_code == 200, edited.body
    assert edited.data["name"] == "Chart Wizard" and edited.data["revision_status"] == "pending"
    assert edited.data["pending_revision"]["name"] == "Chart Wizard Pro"
    queue = api.get("/admin/review-queue", **ADMIN).data["items"]
    assert queue[0]["kind"] == "revision" and queue[0]["live_version"] == 1
    assert queue[0]["changes"] == [
        {"field": "name", "from": "Chart Wizard", "to": "Chart Wizard Pro"},
        {"field": "price", "from": {"amount": 1000, "currency": "usd"}, "to": {"amount": 1500, "currency": "usd"}},
    ]
    # the catalog keeps serving the live version until an admin approves
    live = api.get(f"/listings/{lid}").data
    assert (live["name"], live["price"]["amount"], live["version"]) == ("Chart Wizard", 1000, 1)
    assert api.get("/listings?q=pro").data["items"] == []

    approved = api.post(f"/admin/listings/{lid}/approve", {}, **ADMIN)
    assert approved.status_code == 200, approved.body
    live = api.get("/listings/chart-wizard").data
    assert (live["name"], live["price"]["amount"], live["version"]) == ("Chart Wizard Pro", 1500, 2)
    assert _catalog_ids(api, "?q=pro") == [lid]
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["pending_revision"] is None
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []


def test_rejection_needs_a_reason_then_edit_returns_to_draft_and_resubmits(api):
    lid = create_listing(api, "alice")["listing_id"]
    api.post(f"/partner/listings/{lid}/submit", {}, sub="alice")
    no_reason = api.post(f"/admin/listings/{lid}/reject", {}, **ADMIN)
    assert no_reason.status_code == 400
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["status"] == "submitted"
    rejected = api.post(f"/admin/listings/{lid}/reject", {"reason": "Screenshots missing"}, **ADMIN).data
    assert rejected["status"] == "rejected" and rejected["rejection_reason"] == "Screenshots missing"
    assert api.post(f"/partner/listings/{lid}/submit", {}, sub="alice").status_code == 409
    edited = api.patch(f"/partner/listings/{lid}", {"summary": "Now with screenshots"}, sub="alice").data
    assert edited["status"] == "draft"
    resubmitted = api.post(f"/partner/listings/{lid}/submit", {}, sub="alice").data
    assert resubmitted["status"] == "submitted" and resubmitted["rejection_reason"] is None
    assert "listing.rejected" in _audit_actions(api, lid)


def test_withdraw_submission_and_withdraw_pending_revision(api):
    lid = create_listing(api, "alice")["listing_id"]
    api.post(f"/partner/listings/{lid}/submit", {}, sub="alice")
    assert api.post(f"/partner/listings/{lid}/withdraw", {}, sub="alice").data["status"] == "draft"
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []
    assert api.post(f"/partner/listings/{lid}/withdraw", {}, sub="alice").status_code == 409

    published = publish(api, "alice", name="Other", slug="other")
    api.patch(f"/partner/listings/{published['listing_id']}", {"summary": "New"}, sub="alice")
    withdrawn = api.post(f"/partner/listings/{published['listing_id']}/withdraw", {}, sub="alice").data
    assert withdrawn["status"] == "published" and withdrawn["pending_revision"] is None
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []


def test_rejected_revision_keeps_live_version_and_can_be_reworked(api):
    lid = publish(api, "alice")["listing_id"]
    api.patch(f"/partner/listings/{lid}", {"name": "Spammy Name"}, sub="alice")
    rejected = api.post(f"/admin/listings/{lid}/reject", {"reason": "Misleading name"}, **ADMIN)
    assert rejected.status_code == 200
    assert rejected.data["status"] == "published" and rejected.data["revision_status"] == "rejected"
    assert rejected.data["pending_revision"]["rejection_reason"] == "Misleading name"
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []
    assert api.get(f"/listings/{lid}").data["name"] == "Chart Wizard"
    assert api.post(f"/admin/listings/{lid}/approve", {}, **ADMIN).status_code == 409
    again = api.patch(f"/partner/listings/{lid}", {"name": "Chart Wizard Plus"}, sub="alice").data
    assert again["pending_revision"]["status"] == "pending"
    assert api.get("/admin/review-queue", **ADMIN).data["items"][0]["changes"] == [
        {"field": "name", "from": "Chart Wizard", "to": "Chart Wizard Plus"}]


def test_revision_equal_to_live_is_dropped(api):
    lid = publish(api, "alice")["listing_id"]
    api.patch(f"/partner/listings/{lid}", {"name": "Changed"}, sub="alice")
    back = api.patch(f"/partner/listings/{lid}", {"name": "Chart Wizard"}, sub="alice").data
    assert back["pending_revision"] is None and back["revision_status"] is None
    assert api.get("/admin/review-queue", **ADMIN).data["items"] == []


def test_slug_cannot_change_once_published(api):
    lid = publish(api, "alice")["listing_id"]
    response = api.patch(f"/partner/listings/{lid}", {"slug": "new-slug"}, sub="alice")
    assert response.status_code == 409 and response.data["error"]["code"] == "invalid_state"
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["pending_revision"] is None


def test_unlist_and_suspend_remove_from_every_catalog_view(api):
    unlisted = publish(api, "alice", name="Unlist Me", slug="unlist-me", category="finance")["listing_id"]
    suspended = publish(api, "alice", name="Suspend Me", slug="suspend-me", category="finance")["listing_id"]
    assert set(_catalog_ids(api, "?category=finance")) == {unlisted, suspended}
    assert api.post(f"/partner/listings/{unlisted}/unlist", {}, sub="alice").data["status"] == "unlisted"
    no_reason = api.post(f"/admin/listings/{suspended}/suspend", {}, **ADMIN)
    assert no_reason.status_code == 400
    response = api.post(f"/admin/listings/{suspended}/suspend", {"reason": "Malware report"}, **ADMIN)
    assert response.data["status"] == "suspended" and response.data["status_reason"] == "Malware report"
    for query in ("", "?category=finance", "?q=me", "?sort=top_rated", "?sort=price_desc", "?type=app",
                  "?q=suspend&category=finance"):
        assert _catalog_ids(api, query) == [], query
    for ref in (unlisted, suspended, "unlist-me", "suspend-me"):
        assert api.get(f"/listings/{ref}").status_code == 404
    assert api.post(f"/partner/listings/{unlisted}/unlist", {}, sub="alice").status_code == 409
    assert api.post(f"/admin/listings/{suspended}/suspend", {"reason": "again"}, **ADMIN).status_code == 409
    assert api.patch(f"/partner/listings/{suspended}", {"name": "Sneaky"}, sub="alice").status_code == 409
    assert "listing.suspended" in _audit_actions(api, suspended)


def test_suspending_the_partner_removes_its_listings(api, jobs):
    approved_partner(api, "bob")
    mine = publish(api, "alice")["listing_id"]
    theirs = publish(api, "bob", name="Bob Tool", slug="bob-tool", tags=["tools"])["listing_id"]
    partner_id = api.get("/partners/me", sub="alice").data["partner_id"]
    assert api.post(f"/admin/partners/{partner_id}/suspend", {"reason": "Fraud"}, **ADMIN).status_code == 200
    jobs()  # the listings leave the catalog in a queued job, moments after the answer
    assert _catalog_ids(api) == [theirs]
    assert _catalog_ids(api, f"?partner_id={partner_id}") == []
    assert _catalog_ids(api, "?q=chart") == []
    assert api.get(f"/listings/{mine}").status_code == 404
    assert api.get(f"/partner/listings/{mine}", sub="alice").data["status"] == "suspended"


def test_wrong_state_transitions_are_409_and_change_nothing(api):
    lid = create_listing(api, "alice")["listing_id"]
    for path, who in ((f"/partner/listings/{lid}/unlist", {"sub": "alice"}),
                      (f"/partner/listings/{lid}/withdraw", {"sub": "alice"}),
                      (f"/admin/listings/{lid}/approve", ADMIN),
                      (f"/admin/listings/{lid}/suspend", ADMIN)):
        body = {"reason": "x"} if path.endswith("suspend") else {}
        response = api.post(path, body, **who)
        assert response.status_code == 409, path
        assert response.data["error"]["code"] == "invalid_state"
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["status"] == "draft"


def test_foreign_and_unknown_listings_are_404(api):
    approved_partner(api, "bob")
    lid = create_listing(api, "alice")["listing_id"]
    for method, path, body in (("GET", f"/partner/listings/{lid}", None),
                               ("PATCH", f"/partner/listings/{lid}", {"name": "Mine now"}),
                               ("POST", f"/partner/listings/{lid}/submit", {})):
        response = api.call(method, path, body, sub="bob")
        assert response.status_code == 404 and response.data["error"]["code"] == "not_found"
    assert api.get(f"/partner/listings/{lid}", sub="alice").data["name"] == "Chart Wizard"
    assert api.get("/partner/listings/nope", sub="alice").status_code == 404
    assert api.post("/admin/listings/lst_00000000000000000000000000/approve", {}, **ADMIN).status_code == 404
    assert api.get("/listings/lst_00000000000000000000000000").status_code == 404
    assert api.get("/listings/Not_A_Slug!").status_code == 404


def test_only_approved_partners_create_and_submit(api):
    apply_partner(api, "pending-pat")
    response = api.post("/partner/listings", app_body(), sub="pending-pat")
    assert response.status_code == 409 and response.data["error"]["code"] == "invalid_state"
    assert api.post("/partner/listings", app_body(), sub="stranger").status_code == 404
    assert api.post("/partner/listings", app_body()).status_code == 401


def test_roles_are_enforced(api):
    lid = create_listing(api, "alice")["listing_id"]
    assert api.post(f"/admin/listings/{lid}/approve", {}, sub="alice").status_code == 403
    assert api.get("/admin/review-queue", sub="alice").status_code == 403
    assert api.get("/admin/review-queue").status_code == 401


def test_partner_lists_own_listings_by_status_with_pages(api):
    approved_partner(api, "bob")
    ids = [create_listing(api, "alice", name=f"App {i}", slug=f"app-{i}")["listing_id"] for i in range(3)]
    create_listing(api, "bob", name="Bob App", slug="bob-app")
    api.post(f"/partner/listings/{ids[1]}/submit", {}, sub="alice")
    first = api.get("/partner/listings?limit=2", sub="alice").data
    second = api.get(f"/partner/listings?limit=2&cursor={first['next_cursor']}", sub="alice").data
    assert [i["listing_id"] for i in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    assert [i["listing_id"] for i in api.get("/partner/listings?status=submitted", sub="alice").data["items"]] == [
        ids[1]]
    assert api.get("/partner/listings?status=bogus", sub="alice").status_code == 400
    assert api.get(f"/partner/listings?cursor={first['next_cursor']}", sub="bob").status_code == 400
