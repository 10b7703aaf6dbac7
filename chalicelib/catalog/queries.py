"""What the public and checkout read from the catalog: a published listing, the cards of a page, live prices.

The public only ever sees published listings of approved partners (or of the marketplace itself): a
partner's suspension hides its listings at once, even before `hide_partner_listings` has caught up.
Every read here has a fixed cost in DynamoDB calls, whatever the size of the catalog.
"""
from __future__ import annotations

from typing import Iterable

from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import CatalogEntryItem, ListingItem
from chalicelib.catalog.views import listing_view
from chalicelib.core.errors import NotFound
from chalicelib.partners.model import Partner
from chalicelib.partners.repository import find_partner, load_partners, partners_among, profile_key


def categories() -> list[dict[str, str]]:
    return [{"category_id": c, "name": n} for c, n in model.CATEGORIES]


def public_listing(id_or_slug: str) -> dict:
    """A published listing by id or slug, with its partner's display name: at most 2 DynamoDB calls."""
    listing: ListingItem | None = None
    partner: Partner | None = None
    if model.is_listing_id(id_or_slug):
        listing = repo.get_listing(id_or_slug)
        if listing is not None and listing.status == model.PUBLISHED \
                and listing.partner_id != model.PLATFORM_PARTNER_ID:
            partner = find_partner(listing.partner_id)
    elif model.is_slug(id_or_slug):
        claim = repo.get_slug(id_or_slug)
        if claim is not None:
            # the listing and its partner's profile in one BatchGetItem
            platform = claim.partner_id == model.PLATFORM_PARTNER_ID
            listing, rows = repo.get_listing_and(claim.listing_id, [] if platform else [profile_key(claim.partner_id)])
            partner = partners_among(rows).get(claim.partner_id)
    if listing is None or listing.status != model.PUBLISHED:
        raise NotFound("No such listing in the catalog.")
    if listing.partner_id == model.PLATFORM_PARTNER_ID:
        name = model.PLATFORM_DISPLAY_NAME
    elif partner is None or partner.status != "approved":
        raise NotFound("No such listing in the catalog.")
    else:
        name = partner.display_name
    return listing_view(listing, partner_name=name)


def _partners(partner_ids: Iterable[str]) -> dict[str, Partner]:
    """Display name and status of each partner (one BatchGetItem; none for the marketplace's own)."""
    return load_partners(p for p in dict.fromkeys(partner_ids) if p != model.PLATFORM_PARTNER_ID)


def entry_cards(entries: list[CatalogEntryItem]) -> list[dict]:
    """Cards for a page of entries, with partner names; entries of a non-approved partner are dropped."""
    partners = _partners(e.partner_id for e in entries)
    cards = []
    for entry in entries:
        if entry.partner_id == model.PLATFORM_PARTNER_ID:
            cards.append(entry.to_card(model.PLATFORM_DISPLAY_NAME))
            continue
        partner = partners.get(entry.partner_id)
        if partner is not None and partner.status == "approved":
            cards.append(entry.to_card(partner.display_name))
    return cards


def _live(item: ListingItem) -> model.LiveListing:
    content = item.content()
    return model.LiveListing(
        listing_id=item.listing_id, partner_id=item.partner_id, type=item.type, name=content.name,
        slug=content.slug, price=content.price, status=item.status, version=int(item.version),
        components=content.components if item.type == model.BUNDLE else (),
        split=content.split if item.type == model.BUNDLE else {"method": "pro_rata"},
    )


def get_live_listings(listing_ids: list[str]) -> dict[str, model.LiveListing]:
    """The live version of each published listing among `listing_ids`, in one BatchGetItem.

    Unknown, malformed or unpublished ids are simply absent from the result.
    """
    wanted = [i for i in dict.fromkeys(listing_ids) if model.is_listing_id(i)]
    found = repo.batch_get_listings(wanted)
    return {i: _live(item) for i, item in found.items() if item.status == model.PUBLISHED}
