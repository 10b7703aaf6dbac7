"""Entitlements: listing and reading what one owns, pages, privacy, and two orders racing for one app."""
from __future__ import annotations

from tests.factories import pay, place_order, publish_app, request_refund


def test_entitlements_page_and_stay_private(api, fake_gateway):
    apps = [publish_app(api, "vendor", price=0) for _ in range(3)]
    for app in apps:
        assert place_order(api, "carol", [app["listing_id"]]).data["status"] == "paid"
    first = api.get("/me/entitlements?limit=2", sub="carol").data
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"/me/entitlements?limit=2&cursor={first['next_cursor']}", sub="carol").data
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    listed = {e["listing_id"] for e in first["items"] + rest["items"]}
    assert listed == {a["listing_id"] for a in apps}
    assert api.get("/me/entitlements", sub="dave").data["items"] == []
    assert api.get(f"/me/entitlements/{apps[0]['listing_id']}", sub="dave").status_code == 404
    assert api.get(f"/me/entitlements?cursor={first['next_cursor']}", sub="dave").status_code == 400
    assert api.get("/me/entitlements").status_code == 401
    assert api.get("/me/entitlements?limit=0", sub="carol").status_code == 400


def test_two_pending_orders_for_one_app_grant_it_once_and_refunding_the_second_keeps_it(api, fake_gateway):
    app = publish_app(api, "vendor", price=800)
    first = place_order(api, "carol", [app["listing_id"]]).data
    second = place_order(api, "carol", [app["listing_id"]]).data  # not owned yet: both may be placed
    assert pay(api, fake_gateway, first).data["outcome"] == "paid"
    assert pay(api, fake_gateway, second).data["outcome"] == "paid"
    owned = api.get("/me/entitlements", sub="carol").data["items"]
    assert [(e["listing_id"], e["order_id"]) for e in owned] == [(app["listing_id"], first["order_id"])]
    # The duplicate purchase is refunded: the app stays, granted by the first order.
    response = request_refund(api, second["order_id"], {"reason": "bought twice"})
    assert response.status_code == 201, response.body
    assert response.data["order"]["status"] == "refunded"
    assert api.get(f"/me/entitlements/{app['listing_id']}", sub="carol").data["order_id"] == first["order_id"]
    request_refund(api, first["order_id"], {"reason": "no longer wanted"})
    assert api.get(f"/me/entitlements/{app['listing_id']}", sub="carol").status_code == 404


def test_owns_answers_for_apps_inside_bundles(api, fake_gateway):
    from chalicelib.entitlements.repository import owns
    from tests.factories import publish_bundle

    a = publish_app(api, "vendor", price=100)
    b = publish_app(api, "vendor", price=100)
    bundle = publish_bundle(api, "vendor", [a["listing_id"], b["listing_id"]], price=0)
    assert place_order(api, "carol", [bundle["listing_id"]]).data["status"] == "paid"
    assert owns("carol", a["listing_id"]) and owns("carol", bundle["listing_id"])
    assert not owns("dave", a["listing_id"])
