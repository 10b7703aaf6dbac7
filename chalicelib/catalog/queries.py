"""What the public and checkout read from the catalog: a published listing, the cards of a page, live prices.

The public only ever sees published listings of approved partners (or of the marketplace itself). The
partner's display name and status are copied onto the listing row and its catalog rows (`partner_copies`
keeps them current), so a detail is one GetItem, a page one Query and a slug two reads. A row written
before the copies existed has none: for it alone the partner profile is read as before (one more call).
"""
from __future__ import annotations

from typing import Iterable

from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import CatalogEntryItem, ListingItem
from chalicelib.catalog.views import listing_view
from chalicelib.core.errors import NotFound
from chalicelib.partners.model import APPROVED, Partner
from chalicelib.partners.repository import find_partner, load_partners


def categories() -> list[dict[str, str]]:
    return [{"category_id": c, "name": n} for c, n in model.CATEGORIES]


def public_listing(id_or_slug: str) -> dict:
    """A published listing by id (one GetItem) or slug (two), with its partner's display name."""
    listing: ListingItem | None = None
    if model.is_listing_id(id_or_slug):
        listing = repo.get_listing(id_or_slug)
    elif model.is_slug(id_or_slug):
        claim = repo.get_slug(id_or_slug)
        listing = repo.get_listing(claim.listing_id) if claim is not None else None
    if listing is None or listing.status != model.PUBLISHED:
        raise NotFound("No such listing in the catalog.")
    if listing.partner_id == model.PLATFORM_PARTNER_ID:
        return listing_view(listing, partner_name=model.PLATFORM_DISPLAY_NAME)
    name, status = listing.partner_name, listing.partner_status
    if name is None or status is None:  # a row from before the copies: read the partner (one more call)
        partner = find_partner(listing.partner_id)
        name, status = (partner.display_name, partner.status) if partner is not None else (None, None)
    if name is None or status != APPROVED:
        raise NotFound("No such listing in the catalog.")
    return listing_view(listing, partner_name=name)


def _partners(partner_ids: Iterable[str]) -> dict[str, Partner]:
    """Display name and status of each partner (one BatchGetItem; no call when there is none to read)."""
    wanted = [p for p in dict.fromkeys(partner_ids) if p != model.PLATFORM_PARTNER_ID]
    return load_partners(wanted) if wanted else {}


def _has_copy(entry: CatalogEntryItem) -> bool:
    return entry.partner_status is not None and "partner_name" in entry.card


def entry_cards(entries: list[CatalogEntryItem]) -> list[dict]:
    """Cards for a page of entries, with partner names; entries of a non-approved partner are dropped.

    Names and statuses come from the rows' copies; only rows without one (written before the copies
    existed) cost a BatchGetItem of their partners.
    """
    partners = _partners(e.partner_id for e in entries if e.partner_id != model.PLATFORM_PARTNER_ID
                         and not _has_copy(e))
    cards = []
    for entry in entries:
        if entry.partner_id == model.PLATFORM_PARTNER_ID:
            cards.append(entry.to_card(model.PLATFORM_DISPLAY_NAME))
        elif _has_copy(entry):
            if entry.partner_status == APPROVED:
                cards.append(entry.to_card())
        else:
            partner = partners.get(entry.partner_id)
            if partner is not None and partner.status == APPROVED:
                cards.append(entry.to_card(partner.display_name))
    return cards


def _live(item: ListingItem) -> model.LiveListing:
    content = item.content()
    return model.LiveListing(
        listing_id=item.listing_id, partner_id=item.partner_id, type=item.type, name=content.name,
        slug=content.slug, price=content.price, status=item.status, version=int(item.version),
        components=content.components if item.type == model.BUNDLE else (),
        split=content.split if item.type == model.BUNDLE else {"method": "pro_rata"},
        interval=content.interval, trial_days=content.trial_days,
    )


def get_live_listings(listing_ids: list[str]) -> dict[str, model.LiveListing]:
    """The live version of each published listing among `listing_ids`, in one BatchGetItem.

    Unknown, malformed or unpublished ids are simply absent from the result.
    """
    wanted = [i for i in dict.fromkeys(listing_ids) if model.is_listing_id(i)]
    found = repo.batch_get_listings(wanted)
    return {i: _live(item) for i, item in found.items() if item.status == model.PUBLISHED}
