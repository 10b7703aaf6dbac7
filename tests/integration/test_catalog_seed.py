"""The demo catalog seed: a living catalog for `make run`, and a rerun changes nothing."""
from __future__ import annotations

from chalicelib.catalog.browse import browse
from chalicelib.catalog.queries import get_live_listings
from scripts.seed_catalog import seed
from tests import ddb_calls


def _everything(**filters):
    return browse(limit=100, **filters)["items"]


def test_seed_builds_a_living_catalog_and_is_idempotent(ddb):
    first = seed()
    assert len(first["partners"]) >= 3
    cards = _everything()
    assert len(cards) == 22 and len({c["category"] for c in cards}) >= 8
    bundles = _everything(listing_type="bundle")
    assert {b["slug"] for b in bundles} == {"forge-devops-pack", "startup-essentials"}
    live = get_live_listings([b["listing_id"] for b in bundles])
    partners_in = {b.slug: {c.partner_id for c in b.components} for b in live.values()}
    assert len(partners_in["forge-devops-pack"]) == 1 and len(partners_in["startup-essentials"]) == 3

    with ddb_calls.recording() as log:
        again = seed()
    assert again == first
    assert "TransactWriteItems" not in log.calls
    assert len(_everything()) == 22


def test_seed_publishes_through_partners_it_is_given(ddb):
    from chalicelib.core.identity import Principal
    from chalicelib.partners import service as partners

    admin = Principal("admin", groups=frozenset({"admin"}))
    given = {}
    for owner in ("acme-owner", "globex-owner", "initech-owner"):
        partner = partners.apply(user=Principal(owner), display_name=owner, contact_email=f"{owner}@example.com",
                                 country="US")
        partners.decide(admin=admin, partner_id=partner.partner_id, action="approve")
        given[owner] = partner.partner_id
    first = seed(given)
    assert set(first["partners"].values()) == set(given.values())
    cards = _everything()
    assert len(cards) == 22 and {c["partner_id"] for c in cards} == set(given.values()) | {"platform"}
    assert seed(given) == first
