"""A catalog page costs the same with 100 and with 10,000 listings.

The DynamoDB calls and the items they return are counted through botocore (tests/ddb_calls.py), not
timed: moto's Query reads its whole table, so its latency grows with the table while DynamoDB's does not.

Loading 10,000 listings through the API would take minutes under moto, so the rows are built by the
repository's own row builders (`serialized_published_listing`: listing row, slug claim, every catalog
card) and handed straight to moto's in-process backend. While loading, moto's per-attribute item-size
check (quadratic in the number of attributes) is switched off; the rows are tiny and the measured
requests afterwards run against unmodified moto.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.browse import browse
from chalicelib.catalog.queries import public_listing
from chalicelib.catalog.repository import new_listing_item
from chalicelib.core.money import Money
from chalicelib.db import keys
from chalicelib.db.table import MarketItem
from chalicelib.core.identity import Principal
from chalicelib.partners.repository import PartnerItem
from tests import ddb_calls

PARTNERS = ("ptn_scale_a", "ptn_scale_b", "ptn_scale_c")
SEEDER = Principal("seed")

# One page of each shape the catalog serves: no filter, filters with each sort, a search.
PAGES = {
    "newest": {},
    "category_price_asc": {"category": "analytics", "sort": "price_asc"},
    "partner_type_top_rated": {"partner_id": "ptn_scale_b", "listing_type": "app", "sort": "top_rated"},
    "search_price_desc": {"q": "widget", "sort": "price_desc"},
}


@contextmanager
def _fast_moto_items():
    from moto.dynamodb.models import dynamo_type

    original = dynamo_type.LimitedSizeDict.__setitem__
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__
    try:
        yield
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = original


def _put_raw(rows: list[dict]) -> None:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"][MarketItem.Meta.region]
    with _fast_moto_items():
        for row in rows:
            backend.put_item(MarketItem.Meta.table_name, row)


def _listing(n: int):
    content = model.Content(
        name="Widget", slug=f"widget-{n}", summary="A widget", description="", tags=(),
        category=model.CATEGORY_IDS[n % 4], price=Money(100 + n, "usd"),
    )
    item = new_listing_item(
        listing_id=f"lst_{n:026d}", partner_id=PARTNERS[n % len(PARTNERS)], listing_type=model.APP,
        content=content, status=model.PUBLISHED, actor=SEEDER,
    )
    item.published_at = f"2026-01-01T00:00:00.000Z{n:06d}"  # distinct, in load order
    item.partner_name, item.partner_status = item.partner_id, "approved"  # the copies a listing is born with
    rating = model.Rating(n % 50, (n % 50) * (1 + n % 5), (0, 0, 0, 0, 0))
    for name, value in repo.rating_attributes(rating).items():
        setattr(item, name, value)
    return item


def _load(start: int, stop: int) -> None:
    rows: list[dict] = []
    for n in range(start, stop):
        rows.extend(repo.serialized_published_listing(_listing(n)))
    _put_raw(rows)


def _recording():
    """tests/ddb_calls.py's log: calls made and items read (BatchGetItem items included)."""
    return ddb_calls.recording()


def _measure() -> tuple[dict[str, tuple[list[str], int]], dict[str, dict]]:
    costs, pages = {}, {}
    for name, params in PAGES.items():
        with _recording() as log:
            pages[name] = browse(limit=20, **params)
        assert len(pages[name]["items"]) == 20 and pages[name]["next_cursor"]
        costs[name] = (log.calls, log.items_read)
    with _recording() as log:
        public_listing("widget-42")
    costs["detail_by_slug"] = (log.calls, log.items_read)
    return costs, pages


@pytest.mark.usefixtures("ddb")
def test_one_catalog_page_costs_the_same_at_100_and_10000_listings():
    for partner_id in PARTNERS:
        PartnerItem(pk=keys.partner_pk(partner_id), sk=keys.PROFILE_SK, partner_id=partner_id, owner_sub=partner_id,
                    display_name=partner_id, contact_email="x@example.com", country="DE", status="approved",
                    created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z").save()
    _load(0, 100)
    small, _ = _measure()
    _load(100, 10_000)
    large, pages = _measure()
    print("cost of one page (calls, items read) at 100 and 10,000 listings:", small, large)
    assert large == small
    for name in PAGES:
        calls, items_read = large[name]
        assert calls == ["Query"], name
        assert items_read <= 20 + 1, name  # limit + 1 rows; partner names come from the rows
    assert large["detail_by_slug"] == (["GetItem", "GetItem"], 2)
    # and the pages are the right ones out of the 10,000
    assert [c["slug"] for c in pages["newest"]["items"]] == [f"widget-{n}" for n in range(9_999, 9_979, -1)]
    prices = [c["price"]["amount"] for c in pages["category_price_asc"]["items"]]
    assert prices == sorted(prices) and {c["category"] for c in pages["category_price_asc"]["items"]} == {"analytics"}
    desc = [c["price"]["amount"] for c in pages["search_price_desc"]["items"]]
    assert desc == sorted(desc, reverse=True)
    averages = [c["rating"]["average"] for c in pages["partner_type_top_rated"]["items"]]
    assert averages == sorted(averages, reverse=True)
    assert {c["partner_id"] for c in pages["partner_type_top_rated"]["items"]} == {"ptn_scale_b"}
