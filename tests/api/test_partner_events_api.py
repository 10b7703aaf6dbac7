"""`GET /partner/events`: each change that concerns a partner leaves one event in the partner's feed."""
from __future__ import annotations

import json

from chalicelib.core.pseudonyms import customer_ref
from tests.factories import ADMIN, create_listing, pay, place_order, publish_admin_bundle, publish_app, request_refund


def _feed(api, sub, query=""):
    response = api.get(f"/partner/events{query}", sub=sub)
    assert response.status_code == 200, response.body
    return response.data


def _types(api, sub):
    return [e["type"] for e in _feed(api, sub, "?limit=100")["items"]]


def test_listing_decisions_are_events_of_the_listings_partner(api):
    approved = publish_app(api, "vendor", name="Chart Pro")
    draft = create_listing(api, "vendor", name="Second", tags=None)
    api.post(f"/partner/listings/{draft['listing_id']}/submit", {}, sub="vendor")
    assert api.post(f"/admin/listings/{draft['listing_id']}/reject", {"reason": "Needs screenshots"},
                    **ADMIN).status_code == 200
    assert api.post(f"/admin/listings/{approved['listing_id']}/suspend", {"reason": "Malware report"},
                    **ADMIN).status_code == 200
    items = _feed(api, "vendor")["items"]
    assert [(e["type"], e["data"]["listing_id"]) for e in items] == [
        ("listing.approved", approved["listing_id"]), ("listing.rejected", draft["listing_id"]),
        ("listing.suspended", approved["listing_id"])]
    assert items[0]["data"]["name"] == "Chart Pro" and items[0]["data"]["status"] == "published"
    assert items[1]["data"]["reason"] == "Needs screenshots"
    assert all(e["event_id"].startswith("evt_") and e["created_at"].endswith("Z") for e in items)


def test_a_cross_partner_sale_gives_each_partner_only_its_lines(api, fake_gateway):
    a = publish_app(api, "va", price=1000)
    b = publish_app(api, "vb", price=3000)
    suite = publish_admin_bundle(api, [a["listing_id"], b["listing_id"]], price=2000)
    direct = publish_app(api, "va", price=500)
    order = place_order(api, "carol", [suite["listing_id"], direct["listing_id"]]).data
    assert pay(api, fake_gateway, order).data["outcome"] == "paid"

    [sale_a] = [e for e in _feed(api, "va", "?types=sale.completed")["items"]]
    [sale_b] = [e for e in _feed(api, "vb", "?types=sale.completed")["items"]]
    pa = api.get("/partners/me", sub="va").data["partner_id"]
    pb = api.get("/partners/me", sub="vb").data["partner_id"]
    assert sale_a["data"]["customer"] == customer_ref(pa, "carol")
    assert sale_b["data"]["customer"] == customer_ref(pb, "carol") != sale_a["data"]["customer"]
    assert sale_a["data"]["source"] == {"type": "order", "id": order["order_id"]}
    assert sorted((line["listing_id"], line["gross"]["amount"]) for line in sale_a["data"]["lines"]) == sorted(
        [(a["listing_id"], 500), (direct["listing_id"], 500)])  # 2000 split 1:3 pro rata, plus the app
    assert [(line["listing_id"], line["gross"]["amount"]) for line in sale_b["data"]["lines"]] == [
        (b["listing_id"], 1500)]
    for sale in (sale_a, sale_b):
        data = sale["data"]
        assert data["gross"]["amount"] == sum(line["gross"]["amount"] for line in data["lines"])
        assert data["gross"]["amount"] == data["fee"]["amount"] + data["net"]["amount"]
        assert data["fee"] == {"amount": data["gross"]["amount"] // 5, "currency": "usd"}  # 20 % default
        assert "carol" not in json.dumps(sale) and "@" not in json.dumps(sale)

    refund = request_refund(api, order["order_id"], {"reason": "asked", "listing_ids": [direct["listing_id"]]})
    assert refund.status_code == 201, refund.body
    [refund_a] = _feed(api, "va", "?types=refund.completed")["items"]
    assert refund_a["data"]["lines"] == [{"listing_id": direct["listing_id"],
                                          "gross": {"amount": 500, "currency": "usd"},
                                          "fee": {"amount": 100, "currency": "usd"},
                                          "net": {"amount": 400, "currency": "usd"}}]
    assert _feed(api, "vb", "?types=refund.completed")["items"] == []  # vb's lines were not refunded


def test_reviews_are_events_of_the_listings_partner(api, fake_gateway):
    app = publish_app(api, "vendor", price=0)
    assert place_order(api, "carol", [app["listing_id"]]).status_code == 201  # free: paid at once
    lid = app["listing_id"]
    assert api.post(f"/listings/{lid}/reviews", {"rating": 4, "title": "Good"}, sub="carol").status_code == 201
    assert api.put(f"/listings/{lid}/reviews/mine", {"rating": 2, "title": "Meh"}, sub="carol").status_code == 200
    items = _feed(api, "vendor")["items"]
    assert [e["type"] for e in items] == ["listing.approved", "sale.completed", "review.created", "review.updated"]
    created, updated = items[2]["data"], items[3]["data"]
    assert (created["rating"], created["title"]) == (4, "Good") and (updated["rating"], updated["title"]) == (2, "Meh")
    assert created["customer"] == updated["customer"] == items[1]["data"]["customer"]
    assert items[1]["data"]["gross"] == {"amount": 0, "currency": "usd"}


def test_after_next_cursor_and_bad_cursors(api):
    for n in range(3):
        publish_app(api, "vendor", name=f"App number {n}")
    publish_app(api, "other")
    first = _feed(api, "vendor", "?limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"] == first["items"][-1]["event_id"]
    rest = _feed(api, "vendor", f"?after={first['next_cursor']}")
    assert len(rest["items"]) == 1
    end = _feed(api, "vendor", f"?after={rest['next_cursor']}")
    assert end == {"items": [], "next_cursor": rest["next_cursor"]}
    assert _feed(api, "vendor", "?types=sale.completed") == {"items": [], "next_cursor": rest["next_cursor"]}
    theirs = _feed(api, "other")["items"][0]["event_id"]
    for bad in (theirs, "evt_9_aaaaaaaaaaaaaaaa", "garbage"):
        response = api.get(f"/partner/events?after={bad}", sub="vendor")
        assert response.status_code == 400 and response.data["error"]["code"] == "bad_cursor", bad
    response = api.get("/partner/events?types=sale.completed,nope", sub="vendor")
    assert response.status_code == 400 and response.data["error"]["code"] == "validation_error"
    assert api.get("/partner/events", sub="not-a-partner").status_code == 404
    assert api.get("/partner/events").status_code == 401


def test_an_events_read_key_follows_the_feed(api):
    publish_app(api, "vendor")
    made = api.post("/partner/api-keys", {"name": "poller", "scopes": ["events:read"]}, sub="vendor")
    assert made.status_code == 201, made.body
    secret = made.data["secret"]
    response = api.call("GET", "/partner/events", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.body
    assert [e["type"] for e in response.data["items"]] == ["listing.approved"]
    hooks = api.call("GET", "/partner/webhook-endpoints", headers={"Authorization": f"Bearer {secret}"})
    assert hooks.status_code == 403  # webhooks:manage is another scope


def test_a_feed_page_costs_the_same_whatever_the_feed_size(api):
    from chalicelib.partner_feed import outbox
    from tests import ddb_calls

    publish_app(api, "vendor")
    partner_id = api.get("/partners/me", sub="vendor").data["partner_id"]

    def many(tx):
        for n in range(50):
            outbox.record(tx, partner_id=partner_id, type="listing.rejected", data={"n": n})

    costs = {}
    for size in (51, 401):
        while outbox.repository.read_counter(partner_id).seq < size:
            outbox.commit(many)
        for query in ("?limit=5", "?limit=5&types=sale.completed"):
            with ddb_calls.recording() as log:
                page = _feed(api, "vendor", query)
            costs[(size, query)] = (log.count(), log.items_read, len(page["items"]))
    # the caller's partner (1 Query) + one Query of the feed; a filter reads at most 300 events, then stops
    assert costs[(51, "?limit=5")] == costs[(401, "?limit=5")] == (2, 6, 5)
    assert costs[(51, "?limit=5&types=sale.completed")][2] == 0
    assert costs[(401, "?limit=5&types=sale.completed")][:2] == (2, 301)
    assert _feed(api, "vendor", "?limit=5&types=sale.completed")["next_cursor"].startswith("evt_300_")
