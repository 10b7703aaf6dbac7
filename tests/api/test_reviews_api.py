"""Reviews through the HTTP API: who may review, reply, flag and moderate, and how the rating follows."""
from __future__ import annotations

import pytest

from tests.factories import ADMIN, Api, give, publish_app, publish_bundle


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def listing(api):
    return publish_app(api, "vendor")


def _reviews(api, listing_id, query=""):
    response = api.get(f"/listings/{listing_id}/reviews{query}")
    assert response.status_code == 200, response.body
    return response.data


def _rating(api, listing_id):
    response = api.get(f"/listings/{listing_id}")
    assert response.status_code == 200, response.body
    return response.data["rating"]


def _card_rating(api, listing_id):
    """The rating on the listing's catalog card (`GET /listings`), which the catalog sorts by."""
    cards = api.get("/listings?sort=top_rated&limit=100").data["items"]
    return next(c["rating"] for c in cards if c["listing_id"] == listing_id)


def _hist(*counts):
    return {str(i + 1): n for i, n in enumerate(counts)}


def _review(api, listing, sub, rating=5, **fields):
    give(sub, listing)
    response = api.post(f"/listings/{listing['listing_id']}/reviews", {"rating": rating, **fields}, sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def _error(response, status, code):
    assert response.status_code == status, response.body
    assert response.data["error"]["code"] == code
    return response.data["error"]


# --- writing a review ---------------------------------------------------------------------------
def test_buyer_reviews_and_the_listing_rating_counts_it(api, listing):
    lid = listing["listing_id"]
    give("bob", listing)
    response = api.post(f"/listings/{lid}/reviews", {"rating": 4, "title": "Solid", "body": "Does\nthe job"},
                        sub="bob")
    assert response.status_code == 201, response.body
    review = response.data
    assert review["rating"] == 4 and review["title"] == "Solid" and review["body"] == "Does\nthe job"
    assert review["listing_version"] == 1 and review["reply"] is None and review["status"] == "visible"
    assert _rating(api, lid) == {"count": 1, "average": 4.0, "histogram": _hist(0, 0, 0, 1, 0)}
    assert _card_rating(api, lid)["count"] == 1
    listed = _reviews(api, lid)["items"]
    assert [r["review_id"] for r in listed] == [review["review_id"]]
    assert "status" not in listed[0]  # moderation state is not public


def test_text_is_stored_and_returned_as_plain_text(api, listing):
    text = "<b>not bold</b> & <script>x</script> \u00e9\u4e2d\U0001F600"
    review = _review(api, listing, "bob", title=text, body=text + "\n\tindented")
    assert review["title"] == text and review["body"] == text + "\n\tindented"
    assert _reviews(api, listing["listing_id"])["items"][0]["title"] == text


def test_title_and_body_are_optional(api, listing):
    review = _review(api, listing, "bob", rating=3)
    assert review["title"] is None and review["body"] is None


def test_non_owner_is_forbidden_and_nothing_changes(api, listing):
    lid = listing["listing_id"]
    _error(api.post(f"/listings/{lid}/reviews", {"rating": 5}, sub="stranger"), 403, "forbidden")
    assert _rating(api, lid)["count"] == 0
    assert api.get(f"/listings/{lid}/reviews/mine", sub="stranger").status_code == 404


def test_owner_through_a_bundle_may_review_the_app(api):
    app1 = publish_app(api, "vendor", price=1000)
    app2 = publish_app(api, "vendor", price=1000)
    bundle = publish_bundle(api, "vendor", [app1["listing_id"], app2["listing_id"]], price=1500)
    give("bob", bundle, components=[app1, app2])
    response = api.post(f"/listings/{app2['listing_id']}/reviews", {"rating": 2}, sub="bob")
    assert response.status_code == 201, response.body
    assert _rating(api, app2["listing_id"])["histogram"] == _hist(0, 1, 0, 0, 0)


def test_second_review_is_a_conflict(api, listing):
    _review(api, listing, "bob", rating=5)
    error = _error(api.post(f"/listings/{listing['listing_id']}/reviews", {"rating": 1}, sub="bob"), 409, "conflict")
    assert "already reviewed" in error["message"]
    assert _rating(api, listing["listing_id"])["count"] == 1


def test_unknown_or_unpublished_listing_is_not_found(api, listing):
    draft = api.post("/partner/listings", {
        "type": "app", "name": "Draft", "summary": "s", "category": "design", "price": {"amount": 0, "currency": "usd"},
    }, sub="vendor")
    assert draft.status_code == 201, draft.body
    for lid in (draft.data["listing_id"], "lst_01M81HSZ6NEY9VPERW4A2E1FCK", "nope"):
        _error(api.post(f"/listings/{lid}/reviews", {"rating": 5}, sub="bob"), 404, "not_found")
        _error(api.get(f"/listings/{lid}/reviews"), 404, "not_found")


BAD_REVIEWS = [
    ({"rating": 0}, "rating"),
    ({"rating": 6}, "rating"),
    ({"rating": 4.5}, "rating"),
    ({"rating": "5"}, "rating"),
    ({"rating": True}, "rating"),
    ({"rating": None}, "rating"),
    ({}, "rating"),
    ({"rating": 5, "title": "x" * 121}, "title"),
    ({"rating": 5, "body": "x" * 5001}, "body"),
    ({"rating": 5, "title": "bell\u0007"}, "title"),
    ({"rating": 5, "title": "two\nlines"}, "title"),
    ({"rating": 5, "body": "nul\u0000byte"}, "body"),
    ({"rating": 5, "body": "escape\u001b[31m"}, "body"),
    ({"rating": 5, "body": "delete\u007f"}, "body"),
    ({"rating": 5, "title": "   "}, "title"),
    ({"rating": 5, "stars": 5}, "stars"),
]


def test_bad_review_input_is_400_and_changes_nothing(api, listing):
    """One listing for every case (each case is its own request; a failure names the case)."""
    lid = listing["listing_id"]
    give("bob", listing)
    for body, field in BAD_REVIEWS:
        for method in ("post", "put"):
            path = f"/listings/{lid}/reviews" + ("/mine" if method == "put" else "")
            error = _error(getattr(api, method)(path, body, sub="bob"), 400, "validation_error")
            assert field in [d["field"] for d in error["details"]], (body, error)
    assert _rating(api, lid)["count"] == 0
    assert api.get(f"/listings/{lid}/reviews/mine", sub="bob").status_code == 404


def test_malformed_json_is_400(api, listing):
    give("bob", listing)
    _error(api.post(f"/listings/{listing['listing_id']}/reviews", raw="{rating: 5", sub="bob"), 400,
           "validation_error")


def test_limits_are_inclusive(api, listing):
    review = _review(api, listing, "bob", rating=1, title="t" * 120, body="b" * 5000)
    assert len(review["title"]) == 120 and len(review["body"]) == 5000


def test_writing_a_review_needs_a_token(api, listing):
    _error(api.post(f"/listings/{listing['listing_id']}/reviews", {"rating": 5}), 401, "unauthorized")


# --- the author's own review --------------------------------------------------------------------
def test_author_edits_and_the_rating_follows(api, listing):
    lid = listing["listing_id"]
    _review(api, listing, "bob", rating=5, title="Great")
    _review(api, listing, "carol", rating=3)
    response = api.put(f"/listings/{lid}/reviews/mine", {"rating": 1, "body": "It broke"}, sub="bob")
    assert response.status_code == 200, response.body
    assert response.data["rating"] == 1 and response.data["title"] is None and response.data["edited"] is True
    assert _rating(api, lid) == {"count": 2, "average": 2.0, "histogram": _hist(1, 0, 1, 0, 0)}
    assert _card_rating(api, lid)["average"] == 2.0
    assert [r["rating"] for r in _reviews(api, lid, "?sort=lowest")["items"]] == [1, 3]


def test_edit_records_the_listing_version_reviewed(api, listing):
    lid = listing["listing_id"]
    _review(api, listing, "bob", rating=4)
    assert api.patch(f"/partner/listings/{lid}", {"summary": "Now even better"}, sub="vendor").status_code == 200
    approved = api.post(f"/admin/listings/{lid}/approve", {}, **ADMIN)
    assert approved.status_code == 200 and approved.data["version"] == 2, approved.body
    assert _reviews(api, lid)["items"][0]["listing_version"] == 1
    edited = api.put(f"/listings/{lid}/reviews/mine", {"rating": 5}, sub="bob")
    assert edited.data["listing_version"] == 2
    assert _reviews(api, lid)["items"][0]["listing_version"] == 2


def test_author_deletes_and_may_review_again(api, listing):
    lid = listing["listing_id"]
    first = _review(api, listing, "bob", rating=2)
    deleted = api.delete(f"/listings/{lid}/reviews/mine", sub="bob")
    assert deleted.status_code == 200 and deleted.data == {"review_id": first["review_id"], "deleted": True}
    assert _rating(api, lid) == {"count": 0, "average": 0.0, "histogram": _hist(0, 0, 0, 0, 0)}
    assert _reviews(api, lid)["items"] == []
    second = _review(api, listing, "bob", rating=5)
    assert second["review_id"] != first["review_id"]
    assert _rating(api, lid)["histogram"] == _hist(0, 0, 0, 0, 1)


def test_editing_or_deleting_without_a_review_is_not_found(api, listing):
    lid = listing["listing_id"]
    give("bob", listing)
    _error(api.put(f"/listings/{lid}/reviews/mine", {"rating": 3}, sub="bob"), 404, "not_found")
    _error(api.delete(f"/listings/{lid}/reviews/mine", sub="bob"), 404, "not_found")
    _error(api.get(f"/listings/{lid}/reviews/mine", sub="bob"), 404, "not_found")


def test_bad_edit_is_400_and_keeps_the_review(api, listing):
    lid = listing["listing_id"]
    _review(api, listing, "bob", rating=4)
    _error(api.put(f"/listings/{lid}/reviews/mine", {"rating": 6}, sub="bob"), 400, "validation_error")
    assert api.get(f"/listings/{lid}/reviews/mine", sub="bob").data["rating"] == 4
    assert _rating(api, lid)["histogram"] == _hist(0, 0, 0, 1, 0)


# --- lists --------------------------------------------------------------------------------------
def test_sorts_and_pages(api, listing):
    lid = listing["listing_id"]
    for sub, stars in (("u1", 3), ("u2", 5), ("u3", 1), ("u4", 5), ("u5", 2)):
        _review(api, listing, sub, rating=stars)

    def walk(sort):
        seen, cursor = [], None
        while True:
            query = f"?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = _reviews(api, lid, query)
            assert len(page["items"]) <= 2
            seen += [(r["author_id"], r["rating"]) for r in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    assert walk("newest") == [("u5", 2), ("u4", 5), ("u3", 1), ("u2", 5), ("u1", 3)]
    assert walk("highest") == [("u4", 5), ("u2", 5), ("u1", 3), ("u5", 2), ("u3", 1)]
    assert walk("lowest") == [("u3", 1), ("u5", 2), ("u1", 3), ("u4", 5), ("u2", 5)]
    assert _reviews(api, lid)["items"][0]["author_id"] == "u5"  # newest is the default


def test_bad_sort_and_tampered_cursor_are_400(api, listing):
    lid = listing["listing_id"]
    for sub in ("u1", "u2"):
        _review(api, listing, sub)
    _error(api.get(f"/listings/{lid}/reviews?sort=best"), 400, "validation_error")
    cursor = _reviews(api, lid, "?limit=1")["next_cursor"]
    _error(api.get(f"/listings/{lid}/reviews?limit=1&cursor={cursor[:-2]}xx"), 400, "bad_cursor")
    # A cursor of one sort does not steer another.
    _error(api.get(f"/listings/{lid}/reviews?limit=1&sort=highest&cursor={cursor}"), 400, "bad_cursor")


# --- partner replies ----------------------------------------------------------------------------
def test_partner_replies_once_edits_and_the_reply_is_shown(api, listing):
    lid = listing["listing_id"]
    review = _review(api, listing, "bob", rating=2)
    path = f"/partner/reviews/{review['review_id']}/reply"
    response = api.post(path, {"body": "Sorry!\nFixed in 1.1"}, sub="vendor")
    assert response.status_code == 201, response.body
    assert response.data["reply"]["body"] == "Sorry!\nFixed in 1.1"
    assert response.data["reply"]["partner_id"] == listing["partner_id"]
    _error(api.post(path, {"body": "again"}, sub="vendor"), 409, "conflict")
    edited = api.put(path, {"body": "Fixed in 1.2"}, sub="vendor")
    assert edited.status_code == 200
    assert edited.data["reply"]["created_at"] == response.data["reply"]["created_at"]
    shown = _reviews(api, lid)["items"][0]
    assert shown["reply"]["body"] == "Fixed in 1.2"
    # An author's edit keeps the reply.
    api.put(f"/listings/{lid}/reviews/mine", {"rating": 4}, sub="bob")
    assert _reviews(api, lid)["items"][0]["reply"]["body"] == "Fixed in 1.2"


def test_reply_by_anyone_but_the_listings_partner_is_not_found(api, listing):
    review = _review(api, listing, "bob")
    publish_app(api, "other-vendor")  # an approved partner, but not this listing's
    path = f"/partner/reviews/{review['review_id']}/reply"
    for sub in ("other-vendor", "bob", "stranger"):
        _error(api.post(path, {"body": "hi"}, sub=sub), 404, "not_found")
    _error(api.post("/partner/reviews/rev_unknown/reply", {"body": "hi"}, sub="vendor"), 404, "not_found")
    assert _reviews(api, listing["listing_id"])["items"][0]["reply"] is None


def test_editing_a_reply_that_does_not_exist_is_not_found(api, listing):
    review = _review(api, listing, "bob")
    _error(api.put(f"/partner/reviews/{review['review_id']}/reply", {"body": "x"}, sub="vendor"), 404, "not_found")


def test_bad_reply_is_400(api, listing):
    review = _review(api, listing, "bob")
    for body in ({}, {"body": ""}, {"body": "x" * 5001}, {"body": "bad\u0001"}, {"body": "ok", "extra": 1}):
        for method in ("post", "put"):
            path = f"/partner/reviews/{review['review_id']}/reply"
            _error(getattr(api, method)(path, body, sub="vendor"), 400, "validation_error")
    assert _reviews(api, listing["listing_id"])["items"][0]["reply"] is None


# --- flags and moderation -----------------------------------------------------------------------
def _queue(api):
    response = api.get("/admin/flagged-reviews", **ADMIN)
    assert response.status_code == 200, response.body
    return response.data["items"]


def test_flag_once_per_user_and_the_queue_is_oldest_first(api, listing):
    first = _review(api, listing, "bob", rating=1)
    second = _review(api, listing, "carol", rating=5)
    assert api.post(f"/reviews/{second['review_id']}/flag", {"reason": "spam"}, sub="dave").status_code == 201
    response = api.post(f"/reviews/{first['review_id']}/flag", {"reason": "rude"}, sub="dave")
    assert response.status_code == 201 and response.data == {"review_id": first["review_id"], "flagged": True}
    _error(api.post(f"/reviews/{first['review_id']}/flag", {"reason": "still rude"}, sub="dave"), 409, "conflict")
    assert api.post(f"/reviews/{first['review_id']}/flag", {"reason": "abuse"}, sub="vendor").status_code == 201
    queue = _queue(api)
    assert [q["review"]["review_id"] for q in queue] == [second["review_id"], first["review_id"]]
    assert queue[1]["pending_flags"] == 2 and queue[1]["last_flag_reason"] == "abuse"
    assert queue[1]["review"]["status"] == "visible"


def test_bad_flags(api, listing):
    review = _review(api, listing, "bob")
    path = f"/reviews/{review['review_id']}/flag"
    _error(api.post(path, {"reason": "mine"}, sub="bob"), 403, "forbidden")
    _error(api.post(path, {}, sub="dave"), 400, "validation_error")
    _error(api.post(path, {"reason": "x" * 1001}, sub="dave"), 400, "validation_error")
    _error(api.post(path, {"reason": "ok"}), 401, "unauthorized")
    _error(api.post("/reviews/rev_unknown/flag", {"reason": "spam"}, sub="dave"), 404, "not_found")
    assert _queue(api) == []


def test_moderation_is_for_admins(api, listing):
    review = _review(api, listing, "bob")
    _error(api.get("/admin/flagged-reviews", sub="dave"), 403, "forbidden")
    _error(api.post(f"/admin/reviews/{review['review_id']}/hide", {"reason": "x"}, sub="vendor"), 403, "forbidden")
    _error(api.post(f"/admin/reviews/{review['review_id']}/restore", {}, sub="bob"), 403, "forbidden")


def test_hide_and_restore_move_the_rating_and_are_audited(api, listing):
    lid = listing["listing_id"]
    bad = _review(api, listing, "bob", rating=1, title="Awful")
    _review(api, listing, "carol", rating=5)
    api.post(f"/reviews/{bad['review_id']}/flag", {"reason": "insults"}, sub="dave")
    assert _rating(api, lid)["count"] == 2

    _error(api.post(f"/admin/reviews/{bad['review_id']}/hide", {}, **ADMIN), 400, "validation_error")
    hidden = api.post(f"/admin/reviews/{bad['review_id']}/hide", {"reason": "personal insults"}, **ADMIN)
    assert hidden.status_code == 200, hidden.body
    assert hidden.data["status"] == "hidden" and hidden.data["hidden_reason"] == "personal insults"
    assert _rating(api, lid) == {"count": 1, "average": 5.0, "histogram": _hist(0, 0, 0, 0, 1)}
    assert _card_rating(api, lid)["count"] == 1
    for sort in ("newest", "highest", "lowest"):
        assert [r["author_id"] for r in _reviews(api, lid, f"?sort={sort}")["items"]] == ["carol"]
    assert _queue(api) == []
    mine = api.get(f"/listings/{lid}/reviews/mine", sub="bob").data
    assert mine["status"] == "hidden" and mine["hidden_reason"] == "personal insults"
    _error(api.put(f"/listings/{lid}/reviews/mine", {"rating": 2}, sub="bob"), 409, "invalid_state")
    _error(api.post(f"/reviews/{bad['review_id']}/flag", {"reason": "x"}, sub="erin"), 404, "not_found")
    _error(api.post(f"/admin/reviews/{bad['review_id']}/hide", {"reason": "again"}, **ADMIN), 409, "invalid_state")

    restored = api.post(f"/admin/reviews/{bad['review_id']}/restore", {"reason": "appeal upheld"}, **ADMIN)
    assert restored.status_code == 200 and restored.data["status"] == "visible"
    assert _rating(api, lid) == {"count": 2, "average": 3.0, "histogram": _hist(1, 0, 0, 0, 1)}
    assert [r["author_id"] for r in _reviews(api, lid, "?sort=lowest")["items"]] == ["bob", "carol"]
    _error(api.post(f"/admin/reviews/{bad['review_id']}/restore", {}, **ADMIN), 409, "invalid_state")

    audit = api.get(f"/admin/audit?entity_id={bad['review_id']}", **ADMIN).data["items"]
    assert [(a["action"], a["reason"], a["actor"]) for a in audit] == [
        ("review.restored", "appeal upheld", "admin-1"), ("review.hidden", "personal insults", "admin-1"),
    ]
    assert audit[1]["data"]["listing_id"] == lid and audit[1]["data"]["pending_flags"] == 1


def test_restoring_a_flagged_visible_review_clears_its_flags(api, listing):
    lid = listing["listing_id"]
    review = _review(api, listing, "bob", rating=4)
    api.post(f"/reviews/{review['review_id']}/flag", {"reason": "fake"}, sub="dave")
    response = api.post(f"/admin/reviews/{review['review_id']}/restore", {}, **ADMIN)
    assert response.status_code == 200 and response.data["status"] == "visible"
    assert _queue(api) == []
    assert _rating(api, lid)["count"] == 1
    # Dave already flagged it; somebody new brings it back to the queue.
    _error(api.post(f"/reviews/{review['review_id']}/flag", {"reason": "fake"}, sub="dave"), 409, "conflict")
    api.post(f"/reviews/{review['review_id']}/flag", {"reason": "fake too"}, sub="erin")
    assert [(q["pending_flags"], q["total_flags"]) for q in _queue(api)] == [(1, 2)]
    actions = [a["action"] for a in api.get(f"/admin/audit?entity_id={review['review_id']}", **ADMIN).data["items"]]
    assert actions == ["review.flags_dismissed"]


def test_deleting_a_hidden_review_leaves_the_rating_alone(api, listing):
    lid = listing["listing_id"]
    review = _review(api, listing, "bob", rating=2)
    _review(api, listing, "carol", rating=4)
    api.post(f"/admin/reviews/{review['review_id']}/hide", {"reason": "spam"}, **ADMIN)
    assert api.delete(f"/listings/{lid}/reviews/mine", sub="bob").status_code == 200
    assert _rating(api, lid) == {"count": 1, "average": 4.0, "histogram": _hist(0, 0, 0, 1, 0)}
    _error(api.post(f"/admin/reviews/{review['review_id']}/restore", {}, **ADMIN), 404, "not_found")


def test_unknown_review_moderation_is_not_found(api):
    _error(api.post("/admin/reviews/rev_nope/hide", {"reason": "x"}, **ADMIN), 404, "not_found")
    _error(api.post("/admin/reviews/rev_nope/restore", {}, **ADMIN), 404, "not_found")


def test_a_free_app_ordered_through_checkout_can_be_reviewed(api):
    """End to end with checkout: a free order is paid at once and its entitlement lets the buyer review."""
    app = publish_app(api, "vendor", price=0)
    lid = app["listing_id"]
    _error(api.post(f"/listings/{lid}/reviews", {"rating": 4}, sub="bob"), 403, "forbidden")
    order = api.post("/orders", {"items": [{"listing_id": lid}]}, sub="bob", headers={"Idempotency-Key": "k1"})
    assert order.status_code == 201 and order.data["status"] == "paid", order.body
    assert api.post(f"/listings/{lid}/reviews", {"rating": 4}, sub="bob").status_code == 201
    assert _rating(api, lid)["count"] == 1


def test_a_page_of_reviews_reads_one_page_not_the_listing(api, listing, scan_guard):
    """The list is one Query on one index partition: items read do not grow with the number of reviews."""
    lid = listing["listing_id"]
    for sub in ("u1", "u2", "u3", "u4", "u5"):
        _review(api, listing, sub, rating=3)
    hidden = _review(api, listing, "u6", rating=1)
    api.post(f"/admin/reviews/{hidden['review_id']}/hide", {"reason": "spam"}, **ADMIN)
    for sort in ("newest", "highest", "lowest"):
        calls_before, read_before = len(scan_guard.calls), scan_guard.items_read
        page = _reviews(api, lid, f"?sort={sort}&limit=2")
        calls = scan_guard.calls[calls_before:]
        assert len(page["items"]) == 2 and page["next_cursor"]
        assert calls == ["GetItem", "Query"]  # the listing, then one page
        assert scan_guard.items_read - read_before <= 1 + 3  # the listing + limit + 1


def test_hidden_review_row_has_no_list_positions(api, listing):
    from chalicelib.reviews.repository import get_review

    review = _review(api, listing, "bob", rating=4)
    api.post(f"/admin/reviews/{review['review_id']}/hide", {"reason": "spam"}, **ADMIN)
    row = get_review(listing["listing_id"], "bob")
    assert row.status == "hidden"
    assert [row.gsi1pk, row.gsi1sk, row.gsi2pk, row.gsi2sk, row.gsi3pk, row.gsi3sk] == [None] * 6
    api.post(f"/admin/reviews/{review['review_id']}/restore", {}, **ADMIN)
    row = get_review(listing["listing_id"], "bob")
    assert row.gsi2sk.startswith("4#") and row.gsi3sk.startswith("2#")


def test_malformed_review_ids_are_not_found_without_touching_the_table(api, listing, scan_guard):
    for bad in ("x" * 3000, "rev_%00", "REV_01M81HSZHQQJZJEZADF5C1GAMV", "rev_01m81hszhqqjzjezadf5c1gamv"):
        before = len(scan_guard.calls)
        _error(api.post(f"/reviews/{bad}/flag", {"reason": "spam"}, sub="dave"), 404, "not_found")
        _error(api.post(f"/admin/reviews/{bad}/hide", {"reason": "spam"}, **ADMIN), 404, "not_found")
        assert scan_guard.calls[before:] == []


def test_responses_match_the_schemas_in_the_openapi_document(api, listing):
    """Every review route's success body validates against the `response` schema it declares."""
    from jsonschema import Draft202012Validator

    from chalicelib.http.routing import ROUTES

    def check(response, path, method):
        spec = next(s for s in ROUTES if s.path == path and s.method == method)
        assert response.status_code == spec.status, response.body
        Draft202012Validator(spec.response).validate(response.data)

    lid = listing["listing_id"]
    give("bob", listing)
    base = "/listings/{listing_id}/reviews"
    check(api.post(f"/listings/{lid}/reviews", {"rating": 3, "title": "t"}, sub="bob"), base, "POST")
    check(api.get(f"/listings/{lid}/reviews/mine", sub="bob"), base + "/mine", "GET")
    check(api.put(f"/listings/{lid}/reviews/mine", {"rating": 4}, sub="bob"), base + "/mine", "PUT")
    rid = api.get(f"/listings/{lid}/reviews/mine", sub="bob").data["review_id"]
    check(api.post(f"/partner/reviews/{rid}/reply", {"body": "thanks"}, sub="vendor"),
          "/partner/reviews/{review_id}/reply", "POST")
    check(api.put(f"/partner/reviews/{rid}/reply", {"body": "thanks!"}, sub="vendor"),
          "/partner/reviews/{review_id}/reply", "PUT")
    check(api.get(f"/listings/{lid}/reviews"), base, "GET")
    check(api.post(f"/reviews/{rid}/flag", {"reason": "spam"}, sub="dave"), "/reviews/{review_id}/flag", "POST")
    check(api.get("/admin/flagged-reviews", **ADMIN), "/admin/flagged-reviews", "GET")
    check(api.post(f"/admin/reviews/{rid}/hide", {"reason": "spam"}, **ADMIN), "/admin/reviews/{review_id}/hide",
          "POST")
    check(api.post(f"/admin/reviews/{rid}/restore", {}, **ADMIN), "/admin/reviews/{review_id}/restore", "POST")
    check(api.delete(f"/listings/{lid}/reviews/mine", sub="bob"), base + "/mine", "DELETE")
