"""The rating change other aggregates add to their transactions: exact counters, re-sorted catalog, races."""
from __future__ import annotations

import pytest

from chalicelib.catalog import decisions, lifecycle, queries, ratings
from chalicelib.catalog import repository as catalog_repo
from chalicelib.catalog.browse import browse
from chalicelib.catalog.repository import ListingItem, RevisionItem, projection_partitions
from chalicelib.core.errors import Conflict
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import transaction
from chalicelib.core.identity import Principal
from chalicelib.partners import service as partners

ADMIN = Principal("admin-1", groups=frozenset({"admin"}))
OWNER = Principal("owner-1")


def _partner():
    partner = partners.apply(user=OWNER, display_name="Owner Co", contact_email="o@example.com", country="DE")
    partners.decide(admin=ADMIN, partner_id=partner.partner_id, action="approve")
    return partner.partner_id


def _published(name: str, slug: str) -> str:
    body = {"type": "app", "name": name, "slug": slug, "summary": "s", "category": "analytics", "tags": ["kpi"],
            "price": {"amount": 500, "currency": "usd"}}
    listing_id = lifecycle.create_listing(user=OWNER, body=body)["listing_id"]
    lifecycle.partner_action(user=OWNER, listing_id=listing_id, action="submit")
    decisions.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    return listing_id


@pytest.fixture
def listings(ddb):
    _partner()
    return _published("First App", "first-app"), _published("Second App", "second-app")


def _rate(listing_id: str, *, removed=None, added=None):
    ref = ratings.get_listing_for_owner_check(listing_id)
    with transaction() as tx:
        ratings.add_rating_change(tx, ref, removed=removed, added=added)


def _top_rated(**filters):
    return [c["slug"] for c in browse(sort="top_rated", **filters)["items"]]


def test_ref_carries_owner_version_and_rating(listings):
    first, _ = listings
    ref = ratings.get_listing_for_owner_check(first)
    assert ref.partner_id.startswith("ptn_") and ref.status == "published" and ref.version == 1
    assert ref.rating.count == 0 and ref.component_ids == ()
    assert ratings.get_listing_for_owner_check("lst_00000000000000000000000000") is None
    assert ratings.get_listing_for_owner_check("garbage") is None


def test_rating_changes_update_counters_and_every_catalog_row(listings):
    first, second = listings
    _rate(first, added=3)
    _rate(second, added=5)
    _rate(second, added=4)
    assert _top_rated() == ["second-app", "first-app"]
    _rate(second, removed=5, added=1)  # an edited review: 4 and 1 -> 2.5
    assert _top_rated() == ["first-app", "second-app"]
    for query in ({"category": "analytics"}, {"q": "second"}, {"listing_type": "app"}):
        cards = browse(sort="top_rated", **query)["items"]
        card = next(c for c in cards if c["slug"] == "second-app")
        assert card["rating"] == {"count": 2, "average": 2.5,
                                  "histogram": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}}, query
    row = ListingItem.get(f"LISTING#{second}", "LISTING")
    assert (row.rating_count, row.rating_sum, row.rating_h1, row.rating_h4, row.rating_h5) == (2, 5, 1, 1, 0)
    assert queries.public_listing("second-app")["rating"]["average"] == 2.5


def test_a_stale_ref_fails_its_guard_and_writes_nothing(listings):
    first, second = listings
    stale = ratings.get_listing_for_owner_check(first)
    _rate(first, added=5)
    guards, seen = [], {}

    def on_failed(indexes):
        seen["guard"] = guards[0].failed(indexes)
        return Conflict("raced")

    with pytest.raises(Conflict):
        with transaction(on_condition_failed=on_failed) as tx:
            # the caller's own operations around ours: a passing check and a put
            tx.condition_check(ListingItem, f"LISTING#{second}", "LISTING", condition=ListingItem.pk.exists())
            guards.append(ratings.add_rating_change(tx, stale, added=1))
            tx.save(MarketItem.from_raw_data({"pk": {"S": "TEST#1"}, "sk": {"S": "X"}, "kind": {"S": "Listing"},
                                              **_listing_stub()}))
    assert seen["guard"] is True
    assert ratings.get_listing_for_owner_check(first).rating.count == 1
    assert MarketItem.count("TEST#1") == 0


def test_write_with_rating_change_retries_after_a_race(listings):
    first, _ = listings
    raced = []

    def build(tx, ref):
        if not raced:  # somebody else rates the listing between our read and our write
            raced.append(ref.rev)
            _rate(first, added=2)
        tx.save(MarketItem.from_raw_data({"pk": {"S": f"TEST#{ref.rev}"}, "sk": {"S": "X"},
                                          "kind": {"S": "Listing"}, **_listing_stub()}))

    ref = ratings.write_with_rating_change(first, added=4, build=build)
    assert ref.rev != raced[0]
    rating = ratings.get_listing_for_owner_check(first).rating
    assert (rating.count, rating.total) == (2, 6)


def _listing_stub():
    return {"listing_id": {"S": "stub"}, "partner_id": {"S": "p"}, "type": {"S": "app"}, "status": {"S": "draft"},
            "name": {"S": "n"}, "slug": {"S": "s"}, "summary": {"S": "s"}, "category": {"S": "c"},
            "price_amount": {"N": "0"}, "price_currency": {"S": "usd"}, "created_by": {"S": "x"},
            "created_at": {"S": "t"}, "updated_at": {"S": "t"}}


def test_callers_own_condition_failure_is_theirs(listings):
    first, _ = listings

    def build(tx, ref):
        tx.condition_check(ListingItem, "LISTING#nope", "LISTING", condition=ListingItem.pk.exists())

    with pytest.raises(Conflict) as err:
        ratings.write_with_rating_change(first, added=4, build=build,
                                         on_condition_failed=lambda idx: Conflict("mine"))
    assert err.value.message == "mine"
    assert ratings.get_listing_for_owner_check(first).rating.count == 0


def test_rating_of_an_unlisted_listing_touches_only_its_row(listings):
    first, _ = listings
    lifecycle.partner_action(user=OWNER, listing_id=first, action="unlist")
    _rate(first, added=5)
    assert ratings.get_listing_for_owner_check(first).rating.count == 1
    assert "first-app" not in _top_rated()
    item = ListingItem.get(f"LISTING#{first}", "LISTING")
    for partition in projection_partitions(item):
        assert list(MarketItem.query(partition, MarketItem.sk == first)) == []


def test_revision_approval_moves_cards_between_partitions_and_keeps_the_rating(listings):
    first, _ = listings
    _rate(first, added=4)
    lifecycle.update_listing(user=OWNER, listing_id=first, changes={"name": "Renamed Thing", "category": "finance"})
    assert isinstance(catalog_repo.get_listing_with_revision(first)[1], RevisionItem)
    decisions.decide(admin=ADMIN, listing_id=first, action="approve")
    assert [c["slug"] for c in browse(category="finance")["items"]] == ["first-app"]
    assert "first-app" not in [c["slug"] for c in browse(category="analytics")["items"]]
    assert browse(q="first")["items"] == []
    card = browse(q="renamed thing")["items"][0]
    assert card["name"] == "Renamed Thing" and card["rating"]["count"] == 1 and card["version"] == 2


@pytest.fixture
def atomic_requests():
    """Serve one DynamoDB request at a time, as DynamoDB applies each atomically (moto in-process is not
    thread-safe: a transaction deep-copies tables while another thread writes). Threads still interleave
    freely between requests, which is the race the rev guard and the retries must win."""
    import threading

    import botocore.client

    inner = botocore.client.BaseClient._make_api_call
    lock = threading.Lock()

    def one_at_a_time(self, operation_name, api_params):
        with lock:
            return inner(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = one_at_a_time
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = inner


@pytest.mark.usefixtures("atomic_requests")
def test_concurrent_rating_changes_are_all_counted(listings):
    from concurrent.futures import ThreadPoolExecutor

    first, _ = listings
    stars = [1, 2, 3, 4, 5, 5, 4, 3]

    def rate(value):
        ratings.write_with_rating_change(first, added=value, build=lambda tx, ref: None, attempts=50)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(rate, stars))
    rating = ratings.get_listing_for_owner_check(first).rating
    assert (rating.count, rating.total, rating.histogram) == (8, sum(stars), (1, 1, 2, 2, 2))
    card = next(c for c in browse(sort="top_rated")["items"] if c["slug"] == "first-app")
    assert card["rating"]["count"] == 8 and card["rating"]["average"] == 3.38


@pytest.mark.usefixtures("atomic_requests")
def test_concurrent_creates_of_one_slug_leave_exactly_one(listings):
    from concurrent.futures import ThreadPoolExecutor

    body = {"type": "app", "name": "Race", "slug": "race", "summary": "s", "category": "analytics",
            "price": {"amount": 1, "currency": "usd"}}

    def create(_):
        try:
            return lifecycle.create_listing(user=OWNER, body=body)["listing_id"]
        except Conflict:
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(create, range(6)))
    winners = [r for r in results if r]
    assert len(winners) == 1
    assert catalog_repo.get_slug("race").listing_id == winners[0]
