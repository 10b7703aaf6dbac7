"""What a key or a licence costs in DynamoDB per request, counted in botocore (tests/ddb_calls.py).

A request with an API key costs the same as the partner's own token plus one consistent GetItem (the
key), plus one UpdateItem (`last_used_at`) at most once a minute; a successful write with a key adds its
audit PutItem. A licence costs: entitlement + listing GetItems, one conditional PutItem (the customer-ref
row); a verify: partner Query, customer-ref and entitlement GetItems; the holders list: partner Query,
listing GetItem, one Query page. None of it grows with the number of keys, licences or holders.
"""
from __future__ import annotations

from tests import ddb_calls
from tests.factories import approved_partner, pay, place_order, publish_app

VENDOR = "cost-vendor"


def _cost(fn):
    with ddb_calls.recording() as log:
        response = fn()
    assert response.status_code < 300, response.body
    return sorted(log.calls), log.items_read


def test_a_key_costs_one_getitem_more_than_a_token_and_a_touch_at_most_once_a_minute(api):
    approved_partner(api, VENDOR)
    secret = api.post("/partner/api-keys", {"name": "cost", "scopes": ["listings:read"]}, sub=VENDOR).data["secret"]
    for _ in range(3):  # some listings, so the page reads items
        api.post("/partner/listings", {"type": "app", "name": f"Cost {_}", "summary": "s", "category": "analytics",
                                       "price": {"amount": 100, "currency": "usd"}}, sub=VENDOR)
    by_key = {"headers": {"Authorization": f"Bearer {secret}"}}
    token_calls, token_items = _cost(lambda: api.get("/partner/listings", sub=VENDOR))
    first_calls, _ = _cost(lambda: api.get("/partner/listings", **by_key))
    again_calls, again_items = _cost(lambda: api.get("/partner/listings", **by_key))
    assert first_calls == sorted(token_calls + ["GetItem", "UpdateItem"])
    assert again_calls == sorted(token_calls + ["GetItem"]) and again_items == token_items + 1


def test_licence_routes_cost_a_few_calls_whatever_the_number_of_holders(api, fake_gateway):
    app = publish_app(api, VENDOR, name="Costed", price=100)
    for n in range(4):
        assert pay(api, fake_gateway, place_order(api, f"cost-buyer-{n}", [app["listing_id"]]).data).status_code == 200
    path = f"/me/entitlements/{app['listing_id']}/licence"
    from chalicelib.licences import signing

    signing.signing_key()  # read once per process
    calls, items = _cost(lambda: api.get(path, sub="cost-buyer-0"))
    assert calls == ["GetItem", "GetItem", "PutItem"] and items == 2
    # later licences of the same customer: the customer-ref put is refused by its condition (no item
    # written; ddb_calls counts only calls that succeed)
    calls, items = _cost(lambda: api.get(path, sub="cost-buyer-0"))
    assert calls == ["GetItem", "GetItem"] and items == 2
    licence = api.get(path, sub="cost-buyer-1").data["licence"]
    calls, items = _cost(lambda: api.post("/partner/licences/verify", {"licence": licence}, sub=VENDOR))
    assert calls == ["GetItem", "GetItem", "Query"] and items == 3
    calls, items = _cost(lambda: api.get(f"/partner/licences?listing_id={app['listing_id']}&limit=2", sub=VENDOR))
    assert calls == ["GetItem", "Query", "Query"] and items <= 1 + 1 + 3
