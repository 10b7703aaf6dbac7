"""The public catalog: categories, filters, search, sorts, pages, and the listing page by id or slug."""
from __future__ import annotations

import pytest

from tests import ddb_calls
from tests.factories import Api, approved_partner, publish


@pytest.fixture(scope="module")
def module_client():
    """One moto table and test client for the whole module: its tests only read the catalog."""
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.db.table import MarketItem, create_table

    with mock_aws():
        MarketItem._connection = None
        create_table()
        with ddb_calls.recording() as log, Client(app) as test_client:
            yield test_client
        MarketItem._connection = None
    assert "Scan" not in log.calls, "a request path issued a DynamoDB Scan"


@pytest.fixture(scope="module")
def catalog(module_client):
    """Two partners, six published listings published in this order (newest last)."""
    api = Api(module_client)
    ann = approved_partner(api, "ann", display_name="Ann Analytics")["partner_id"]
    ben = approved_partner(api, "ben", display_name="Ben Builders")["partner_id"]
    made = {}
    for sub, slug, name, category, tags, amount in (
        ("ann", "chart-wizard", "Chart Wizard", "analytics", ["charts", "dashboards"], 1000),
        ("ann", "data-pipe", "Data Pipe", "developer-tools", ["etl", "charts"], 500),
        ("ben", "chatter", "Chatter", "communication", ["chat", "team"], 0),
        ("ben", "sales-radar", "Sales Radar", "sales", ["crm", "analytics"], 2500),
        ("ann", "metric-hub", "Metric Hub", "analytics", ["kpi"], 1500),
        ("ben", "chart-studio", "Chart Studio Pro", "analytics", ["design"], 700),
    ):
        made[slug] = publish(api, sub, slug=slug, name=name, category=category, tags=tags,
                             price={"amount": amount, "currency": "usd"})["listing_id"]
    return api, made, {"ann": ann, "ben": ben}


def _slugs(api, query=""):
    response = api.get(f"/listings{query}")
    assert response.status_code == 200, response.body
    return [c["slug"] for c in response.data["items"]]


def test_categories(module_client):
    response = Api(module_client).get("/categories")
    assert response.status_code == 200
    ids = [c["category_id"] for c in response.data["items"]]
    assert "analytics" in ids and len(ids) == len(set(ids))


def test_default_is_newest_first_with_cards(catalog):
    api, made, partners = catalog
    assert _slugs(api) == ["chart-studio", "metric-hub", "sales-radar", "chatter", "data-pipe", "chart-wizard"]
    card = api.get("/listings").data["items"][0]
    assert card["partner_name"] == "Ben Builders" and card["partner_id"] == partners["ben"]
    assert card["rating"] == {"count": 0, "average": 0.0, "histogram": {str(i): 0 for i in range(1, 6)}}
    assert "description" not in card


@pytest.mark.parametrize("query,expected", [
    ("?category=analytics", ["chart-studio", "metric-hub", "chart-wizard"]),
    ("?category=analytics&sort=price_asc", ["chart-studio", "chart-wizard", "metric-hub"]),
    ("?sort=price_desc", ["sales-radar", "metric-hub", "chart-wizard", "chart-studio", "data-pipe", "chatter"]),
    ("?sort=price_asc&type=app", ["chatter", "data-pipe", "chart-studio", "chart-wizard", "metric-hub",
                                  "sales-radar"]),
    ("?type=bundle", []),
    ("?q=chart", ["chart-studio", "data-pipe", "chart-wizard"]),
    ("?q=CHA", ["chart-studio", "chatter", "data-pipe", "chart-wizard"]),
    ("?q=chart%20pro", ["chart-studio"]),
    ("?q=pro%20chart", ["chart-studio"]),
    ("?q=art", []),
    ("?q=analytics", ["sales-radar"]),
    ("?q=chart&category=analytics&sort=price_desc", ["chart-wizard", "chart-studio"]),
    ("?q=zzz", []),
    ("?category=finance", []),
])
def test_filters_search_and_sorts(catalog, query, expected):
    api, _, _ = catalog
    assert _slugs(api, query) == expected


def test_partner_filter_alone_and_combined(catalog):
    api, _, partners = catalog
    assert _slugs(api, f"?partner_id={partners['ann']}") == ["metric-hub", "data-pipe", "chart-wizard"]
    assert _slugs(api, f"?partner_id={partners['ann']}&category=analytics&sort=price_desc") == [
        "metric-hub", "chart-wizard"]
    assert _slugs(api, f"?partner_id={partners['ben']}&q=chart") == ["chart-studio"]
    assert _slugs(api, "?partner_id=ptn_nobody") == []


@pytest.mark.parametrize("sort", ["newest", "top_rated", "price_asc", "price_desc"])
def test_pages_cover_everything_once_in_order(catalog, sort):
    api, made, _ = catalog
    everything = _slugs(api, f"?sort={sort}&limit=100")
    seen, cursor = [], None
    while True:
        page = api.get(f"/listings?sort={sort}&limit=4" + (f"&cursor={cursor}" if cursor else "")).data
        seen += [c["slug"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == everything and sorted(seen) == sorted(made)


def test_search_pages_continue_with_the_cursor(catalog):
    api, _, _ = catalog
    first = api.get("/listings?q=cha&limit=2").data
    second = api.get(f"/listings?q=cha&limit=2&cursor={first['next_cursor']}").data
    assert [c["slug"] for c in first["items"] + second["items"]] == [
        "chart-studio", "chatter", "data-pipe", "chart-wizard"]


def test_cursor_is_bound_to_its_query(catalog):
    api, _, _ = catalog
    cursor = api.get("/listings?limit=2").data["next_cursor"]
    for query in (f"?sort=price_asc&limit=2&cursor={cursor}", f"?category=analytics&cursor={cursor}",
                  f"?limit=2&cursor={cursor[:-2]}xx"):
        response = api.get(f"/listings{query}")
        assert response.status_code == 400 and response.data["error"]["code"] == "bad_cursor", query


@pytest.mark.parametrize("query,field", [
    ("?category=nope", "category"), ("?type=plugin", "type"), ("?sort=cheapest", "sort"), ("?limit=0", "limit"),
    ("?limit=101", "limit"), ("?q=" + "a" * 101, "q"), ("?q=%20%20", "q"), ("?q=!!!", "q"),
    ("?partner_id=bad%20id", "partner_id"), ("?colour=red", "colour"),
])
def test_bad_catalog_queries_are_400(module_client, query, field):
    response = Api(module_client).get(f"/listings{query}")
    assert response.status_code == 400, query
    assert response.data["error"]["code"] == "validation_error"
    assert field in {d["field"] for d in response.data["error"]["details"]}


def test_listing_page_is_one_get_by_id_and_two_by_slug(catalog):
    api, made, _ = catalog
    for ref, calls in ((made["chart-wizard"], ["GetItem"]), ("chart-wizard", ["GetItem", "GetItem"])):
        with ddb_calls.recording() as log:
            response = api.get(f"/listings/{ref}")
        assert response.status_code == 200
        assert log.calls == calls, ref
        body = response.data
        assert body["listing_id"] == made["chart-wizard"] and body["partner_name"] == "Ann Analytics"
        assert body["description"] == "" and body["version"] == 1 and body["status"] == "published"
        assert body["rating"]["count"] == 0


def test_catalog_page_is_one_query_with_partner_names_from_the_rows(catalog):
    api, _, _ = catalog
    for query in ("", "?category=analytics&sort=top_rated", "?q=chart%20pro&type=app"):
        with ddb_calls.recording() as log:
            page = api.get(f"/listings{query}").data
        assert log.calls == ["Query"], query
        assert page["items"] and all(c["partner_name"] in ("Ann Analytics", "Ben Builders") for c in page["items"])
