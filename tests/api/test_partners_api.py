"""Partner onboarding through the HTTP layer: apply, profile, admin decisions, commissions, audit."""
from __future__ import annotations

import pytest

from tests.factories import ADMIN, FINANCE, Api, apply_partner, approved_partner


@pytest.fixture
def api(client):
    return Api(client)


def test_apply_creates_pending_partner_owned_by_caller(api):
    created = apply_partner(api, "alice", website="https://alice.example.com")
    assert created["status"] == "pending"
    assert created["partner_id"].startswith("ptn_")
    mine = api.get("/partners/me", sub="alice")
    assert mine.status_code == 200
    assert mine.data["partner_id"] == created["partner_id"]
    assert mine.data["commission_bps"] == 2000
    assert mine.data["payouts_enabled"] is False


def test_one_partner_per_user(api):
    apply_partner(api, "alice")
    again = api.post("/partners", {"display_name": "Again", "contact_email": "a@example.com", "country": "FR"},
                     sub="alice")
    assert again.status_code == 409
    assert again.data["error"]["code"] == "conflict"


def test_partners_me_without_partner_is_404(api):
    response = api.get("/partners/me", sub="nobody")
    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


@pytest.mark.parametrize("body,fields", [
    ({}, {"display_name", "contact_email", "country"}),
    ({"display_name": "X", "contact_email": "not-an-email", "country": "DE"}, {"contact_email"}),
    ({"display_name": "X", "contact_email": "x@example.com", "country": "XX"}, {"country"}),
    ({"display_name": "   ", "contact_email": "x@example.com", "country": "DE"}, {"display_name"}),
    ({"display_name": "a\u0007b", "contact_email": "x@example.com", "country": "DE"}, {"display_name"}),
    ({"display_name": "X" * 101, "contact_email": "x@example.com", "country": "DE"}, {"display_name"}),
    ({"display_name": "X", "contact_email": "x@example.com", "country": "DE", "status": "approved"}, {"status"}),
    ({"display_name": "X", "contact_email": "x@example.com", "country": "DE", "website": "ftp://x"}, {"website"}),
    ({"display_name": 5, "contact_email": "x@example.com", "country": "DE"}, {"display_name"}),
])
def test_apply_rejects_bad_input_naming_each_field(api, body, fields):
    response = api.post("/partners", body, sub="bob")
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"
    assert {d["field"] for d in response.data["error"]["details"]} == fields
    assert api.get("/partners/me", sub="bob").status_code == 404


def test_apply_rejects_non_object_and_malformed_json(api):
    assert api.post("/partners", [1, 2], sub="bob").status_code == 400
    response = api.post("/partners", raw="{not json", sub="bob")
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"


def test_body_over_256_kib_is_413(api):
    big = '{"display_name": "' + "x" * (256 * 1024) + '"}'
    response = api.post("/partners", raw=big, sub="bob")
    assert response.status_code == 413
    assert response.data["error"]["code"] == "payload_too_large"


def test_patch_profile_and_validation(api):
    apply_partner(api, "alice")
    response = api.patch("/partners/me", {"display_name": "Alice Apps", "website": None}, sub="alice")
    assert response.status_code == 200, response.body
    assert response.data["display_name"] == "Alice Apps"
    assert api.get("/partners/me", sub="alice").data["display_name"] == "Alice Apps"
    assert api.patch("/partners/me", {}, sub="alice").status_code == 400
    assert api.patch("/partners/me", {"status": "approved"}, sub="alice").status_code == 400
    assert api.patch("/partners/me", {"display_name": "x"}, sub="stranger").status_code == 404


def test_admin_queue_and_approval_with_audit(api):
    pending = apply_partner(api, "alice")
    apply_partner(api, "bob")
    queue = api.get("/admin/partners?status=pending", **ADMIN)
    assert queue.status_code == 200
    assert [p["partner_id"] for p in queue.data["items"]][0] == pending["partner_id"]

    approved = api.post(f"/admin/partners/{pending['partner_id']}/approve", {"reason": "looks good"}, **ADMIN)
    assert approved.status_code == 200
    assert approved.data["status"] == "approved"
    assert [p["partner_id"] for p in api.get("/admin/partners?status=pending", **ADMIN).data["items"]] != [
        pending["partner_id"]]
    assert pending["partner_id"] in [
        p["partner_id"] for p in api.get("/admin/partners?status=approved", **ADMIN).data["items"]]

    audit = api.get(f"/admin/audit?entity_id={pending['partner_id']}", **ADMIN)
    assert audit.status_code == 200
    actions = [r["action"] for r in audit.data["items"]]
    assert actions == ["partner.approved", "partner.applied"]
    assert audit.data["items"][0]["actor"] == "admin-1"
    assert audit.data["items"][0]["data"] == {"from": "pending", "to": "approved"}


def test_wrong_transitions_are_invalid_state_and_change_nothing(api):
    partner = approved_partner(api, "alice")
    pid = partner["partner_id"]
    again = api.post(f"/admin/partners/{pid}/approve", {}, **ADMIN)
    assert again.status_code == 409 and again.data["error"]["code"] == "invalid_state"
    rejected = api.post(f"/admin/partners/{pid}/reject", {"reason": "late"}, **ADMIN)
    assert rejected.status_code == 409
    assert api.get("/partners/me", sub="alice").data["status"] == "approved"
    suspended = api.post(f"/admin/partners/{pid}/suspend", {"reason": "fraud report"}, **ADMIN)
    assert suspended.status_code == 200 and suspended.data["status_reason"] == "fraud report"
    assert api.patch("/partners/me", {"display_name": "New"}, sub="alice").status_code == 409


def test_reject_and_suspend_need_a_reason(api):
    partner = apply_partner(api, "alice")
    response = api.post(f"/admin/partners/{partner['partner_id']}/reject", {}, **ADMIN)
    assert response.status_code == 400
    assert response.data["error"]["details"][0]["field"] == "reason"
    response = api.post(f"/admin/partners/{partner['partner_id']}/reject", {"reason": " "}, **ADMIN)
    assert response.status_code == 400


def test_admin_routes_need_admin_role(api):
    partner = apply_partner(api, "alice")
    assert api.get("/admin/partners").status_code == 401
    assert api.get("/admin/partners", sub="alice").status_code == 403
    assert api.post(f"/admin/partners/{partner['partner_id']}/approve", {}, sub="alice").status_code == 403
    assert api.post(f"/admin/partners/{partner['partner_id']}/approve", {}, **FINANCE).status_code == 403
    assert api.post("/admin/partners/ptn_missing/approve", {}, **ADMIN).status_code == 404


def test_commission_schedule_keeps_history(api):
    partner = approved_partner(api, "alice")
    pid = partner["partner_id"]
    later = api.put(f"/admin/partners/{pid}/commission", {"bps": 1500, "effective_from": "2099-01-01"}, **FINANCE)
    assert later.status_code == 200, later.body
    assert later.data["commission_bps"] == 2000  # not in force yet
    from chalicelib.core import clock

    today = clock.today().isoformat()
    now = api.put(f"/admin/partners/{pid}/commission", {"bps": 1200, "effective_from": today}, **ADMIN)
    assert now.data["commission_bps"] == 1200
    assert [e["bps"] for e in now.data["commission_history"]] == [2000, 1500, 1200]
    audit = api.get(f"/admin/audit?entity_id={pid}", **FINANCE).data["items"]
    assert audit[0]["action"] == "partner.commission_scheduled"
    assert audit[0]["data"]["bps"] == 1200


@pytest.mark.parametrize("body", [
    {"bps": 10001, "effective_from": "2099-01-01"},
    {"bps": -1, "effective_from": "2099-01-01"},
    {"bps": 10.5, "effective_from": "2099-01-01"},
    {"bps": 100, "effective_from": "2099-13-01"},
    {"bps": 100, "effective_from": "2000-01-01"},
    {"bps": 100},
])
def test_commission_bad_input(api, body):
    partner = approved_partner(api, "alice")
    response = api.put(f"/admin/partners/{partner['partner_id']}/commission", body, **ADMIN)
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"
    assert api.get("/partners/me", sub="alice").data["commission_bps"] == 2000


def test_commission_needs_admin_or_finance(api):
    partner = approved_partner(api, "alice")
    body = {"bps": 100, "effective_from": "2099-01-01"}
    assert api.put(f"/admin/partners/{partner['partner_id']}/commission", body, sub="alice").status_code == 403
    assert api.put("/admin/partners/ptn_nope/commission", body, **ADMIN).status_code == 404


def test_admin_partner_list_paginates_with_signed_cursor(api):
    ids = [apply_partner(api, f"user{i}")["partner_id"] for i in range(5)]
    first = api.get("/admin/partners?status=pending&limit=2", **ADMIN)
    assert len(first.data["items"]) == 2 and first.data["next_cursor"]
    seen = [p["partner_id"] for p in first.data["items"]]
    cursor = first.data["next_cursor"]
    while cursor:
        page = api.get(f"/admin/partners?status=pending&limit=2&cursor={cursor}", **ADMIN)
        seen += [p["partner_id"] for p in page.data["items"]]
        cursor = page.data["next_cursor"]
    assert seen == ids
    tampered = first.data["next_cursor"][:-2] + ("AA" if not first.data["next_cursor"].endswith("AA") else "BB")
    bad = api.get(f"/admin/partners?status=pending&limit=2&cursor={tampered}", **ADMIN)
    assert bad.status_code == 400 and bad.data["error"]["code"] == "bad_cursor"
    other_scope = api.get(f"/admin/partners?status=approved&limit=2&cursor={first.data['next_cursor']}", **ADMIN)
    assert other_scope.status_code == 400 and other_scope.data["error"]["code"] == "bad_cursor"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "status=weird", "unknown=1"])
def test_list_query_validation(api, query):
    response = api.get(f"/admin/partners?{query}", **ADMIN)
    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"


def test_audit_feed_newest_first_and_roles(api):
    apply_partner(api, "alice")
    apply_partner(api, "bob")
    feed = api.get("/admin/audit", **FINANCE)
    assert feed.status_code == 200
    assert [r["action"] for r in feed.data["items"]] == ["partner.applied", "partner.applied"]
    assert feed.data["items"][0]["at"] >= feed.data["items"][1]["at"]
    assert api.get("/admin/audit", sub="alice").status_code == 403


def test_a_profile_written_before_the_owner_index_answers_every_partner_route_the_same(api):
    """Profiles deployed before gsi3 carried the owner: same answers (two reads) until a write adds the keys."""
    from chalicelib.partners.repository import PartnerItem, profile_key

    indexed = approved_partner(api, "alice")
    before = {path: api.get(path, sub="alice").data for path in ("/partners/me", "/partner/listings")}
    PartnerItem(*profile_key(indexed["partner_id"])).update(
        actions=[PartnerItem.gsi3pk.remove(), PartnerItem.gsi3sk.remove()]
    )
    assert {path: api.get(path, sub="alice").data for path in before} == before
    assert api.patch("/partners/me", {"website": "https://alice.example.com"}, sub="alice").status_code == 200
    row = PartnerItem.get(*profile_key(indexed["partner_id"]))
    assert (row.gsi3pk, row.gsi3sk) == ("OWNER#alice", "PROFILE")
    assert api.get("/partners/me", sub="alice").data["website"] == "https://alice.example.com"


def test_a_suspension_cascade_cut_short_is_finished_by_redelivery_and_by_repeating_it(api, jobs, monkeypatch):
    """The catalog trusts its own copies of the partner's status, so the listing cascade must be finishable."""
    from chalicelib.catalog import decisions
    from chalicelib.core.errors import UpstreamUnavailable
    from tests.factories import publish_app

    partner = approved_partner(api, "alice")
    first, second = publish_app(api, "alice", name="First App"), publish_app(api, "alice", name="Second App")
    real_decide, calls = decisions.decide, []

    def fails_on_the_second_listing(**kwargs):
        calls.append(kwargs["listing_id"])
        if len(calls) == 2:
            raise UpstreamUnavailable("The database could not complete the request; nothing was changed.")
        return real_decide(**kwargs)

    monkeypatch.setattr(decisions, "decide", fails_on_the_second_listing)
    suspended = api.post(f"/admin/partners/{partner['partner_id']}/suspend", {"reason": "fraud"}, **ADMIN)
    assert suspended.status_code == 200  # the cascade is a queued job: the request does not wait for it
    jobs()  # the job died after the first listing; SQS delivered it again and it finished
    assert calls.count(second["listing_id"]) == 2, "the second listing was tried again on redelivery"
    assert all(api.get(f"/listings/{lst['listing_id']}").status_code == 404 for lst in (first, second))

    # Repeating the suspension answers 409 and queues the cascade again (a job lost with a 503 is redone).
    monkeypatch.setattr(decisions, "decide", real_decide)
    repeated = api.post(f"/admin/partners/{partner['partner_id']}/suspend", {"reason": "fraud"}, **ADMIN)
    assert repeated.status_code == 409 and repeated.data["error"]["code"] == "invalid_state"
    assert jobs() >= 1  # the cascade again (it finds nothing left to hide)
    assert all(api.get(f"/listings/{lst['listing_id']}").status_code == 404 for lst in (first, second))
