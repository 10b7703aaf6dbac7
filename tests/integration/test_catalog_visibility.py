"""What the catalog hides when a partner stops being approved: through the cascade, the row copies, or a read."""
from __future__ import annotations

import pytest

from chalicelib.catalog import decisions, lifecycle, queries, ratings
from chalicelib.catalog.browse import browse
from chalicelib.core.errors import InvalidState, NotFound
from chalicelib.core.identity import Principal
from chalicelib.catalog.repository import CatalogEntryItem, ListingItem, get_listing, projection_rows
from chalicelib.partners import service as partners
from chalicelib.partners.repository import PartnerItem, get_partner
from tests.factories import approved_partner_directly

ADMIN = Principal("admin-1", groups=frozenset({"admin"}))
OWNER = Principal("owner-1")
BODY = {"type": "app", "summary": "s", "category": "security", "price": {"amount": 100, "currency": "gbp"}}


@pytest.fixture
def partner_id(ddb):
    return approved_partner_directly(OWNER, display_name="Owner Co")


def _create(name, slug):
    return lifecycle.create_listing(user=OWNER, body={**BODY, "name": name, "slug": slug})["listing_id"]


def _suspend_without_cascade(partner_id):
    """As if the partner's suspension committed and the process died before hiding its listings."""
    partner = get_partner(partner_id)
    partner.update(actions=[PartnerItem.status.set("suspended")])


def _publish(name, slug):
    listing_id = _create(name, slug)
    lifecycle.partner_action(user=OWNER, listing_id=listing_id, action="submit")
    decisions.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    return listing_id


def _drop_partner_copies(listing_id):
    """As if the listing's rows were written before the listing and catalog rows carried partner copies."""
    listing = get_listing(listing_id)
    for entry in projection_rows(listing):
        card = dict(entry.card)
        card.pop("partner_name")
        entry.update(actions=[CatalogEntryItem.partner_status.remove(), CatalogEntryItem.card.set(card)])
    listing.update(actions=[ListingItem.partner_name.remove(), ListingItem.partner_status.remove()])


def test_a_suspension_hides_the_partners_cards_and_pages_through_its_reaction(partner_id, jobs):
    listing_id = _publish("Shield", "shield")
    assert [c["slug"] for c in browse()["items"]] == ["shield"]
    partners.decide(admin=ADMIN, partner_id=partner_id, action="suspend")
    assert jobs() == 1  # the reaction is a queued job
    assert browse()["items"] == [] and browse(q="shield")["items"] == []
    for ref in (listing_id, "shield"):
        with pytest.raises(NotFound):
            queries.public_listing(ref)


def test_a_cascade_that_runs_after_a_reinstatement_hides_nothing(partner_id, jobs):
    listing_id = _publish("Shield", "shield")
    partners.decide(admin=ADMIN, partner_id=partner_id, action="suspend")
    partners.decide(admin=ADMIN, partner_id=partner_id, action="reinstate", reason="appeal upheld")
    jobs()  # the suspension's job arrives after the reinstatement: the partner is approved again
    assert get_listing(listing_id).status == "published"
    assert [c["slug"] for c in browse()["items"]] == ["shield"]


def test_a_cascade_that_died_is_rerun_and_finishes_the_job(partner_id):
    listing_id = _publish("Shield", "shield")
    _suspend_without_cascade(partner_id)
    assert lifecycle.hide_partner_listings(partner_id=partner_id, actor=ADMIN) == 1
    assert lifecycle.hide_partner_listings(partner_id=partner_id, actor=ADMIN) == 0
    assert ratings.get_listing_for_owner_check(listing_id).status == "suspended"
    assert queries.get_live_listings([listing_id]) == {} and browse()["items"] == []


def test_rows_without_partner_copies_read_the_partner_and_hide_a_non_approved_one(partner_id):
    listing_id = _publish("Shield", "shield")
    _drop_partner_copies(listing_id)
    assert [c["partner_name"] for c in browse()["items"]] == ["Owner Co"]
    assert queries.public_listing("shield")["partner_name"] == "Owner Co"
    _suspend_without_cascade(partner_id)
    assert browse()["items"] == [] and browse(q="shield")["items"] == []
    for ref in (listing_id, "shield"):
        with pytest.raises(NotFound):
            queries.public_listing(ref)


def test_rows_whose_partner_copy_is_not_approved_are_hidden(partner_id):
    listing_id = _publish("Shield", "shield")
    listing = get_listing(listing_id)
    for entry in projection_rows(listing):
        entry.update(actions=[CatalogEntryItem.partner_status.set("suspended")])
    listing.update(actions=[ListingItem.partner_status.set("suspended")])
    assert browse()["items"] == [] and browse(q="shield")["items"] == []
    for ref in (listing_id, "shield"):
        with pytest.raises(NotFound):
            queries.public_listing(ref)


def test_approval_checks_the_partner_inside_its_transaction(partner_id):
    listing_id = _create("Vault", "vault")
    lifecycle.partner_action(user=OWNER, listing_id=listing_id, action="submit")
    _suspend_without_cascade(partner_id)
    with pytest.raises(InvalidState):
        decisions.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    assert ratings.get_listing_for_owner_check(listing_id).status == "submitted"
    assert browse()["items"] == []


def _wordy(seed: str) -> tuple[str, list[str]]:
    """A name and tags with as many distinct search words as the schema allows."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [f"{seed}{a}{b}" for a in letters for b in letters]
    name = " ".join(words[:20])[:80].strip()
    tags = [" ".join(words[20 + 7 * i: 27 + 7 * i])[:30].strip() for i in range(10)]
    return name, tags


def test_the_largest_revision_still_fits_one_transaction(partner_id):
    name, tags = _wordy("q")
    listing_id = lifecycle.create_listing(user=OWNER, body={**BODY, "name": name, "slug": "wordy", "tags": tags})[
        "listing_id"]
    lifecycle.partner_action(user=OWNER, listing_id=listing_id, action="submit")
    decisions.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    from chalicelib.catalog.repository import get_listing, projection_partitions

    assert len(projection_partitions(get_listing(listing_id))) == 8 + 32
    new_name, new_tags = _wordy("z")
    lifecycle.update_listing(user=OWNER, listing_id=listing_id,
                           changes={"name": new_name, "tags": new_tags, "category": "finance"})
    decisions.decide(admin=ADMIN, listing_id=listing_id, action="approve")  # 40 deletes + 40 puts + 4
    assert [c["listing_id"] for c in browse(q=new_name.split()[0])["items"]] == [listing_id]
    assert browse(q=name.split()[0])["items"] == []
    assert [c["version"] for c in browse(category="finance")["items"]] == [2]
