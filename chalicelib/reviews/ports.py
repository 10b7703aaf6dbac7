"""What reviews need from the other aggregates, in one place: the listing, ownership and the rating.

Reviews do not read or write catalog, entitlement or partner rows themselves: the catalog owns the
listing row and its catalog cards (which carry the rating and sort by it), checkout owns entitlements,
partners own memberships. These functions are the only calls across those borders, so the review use
cases read as plain steps and a test can see every dependency at a glance.
"""
from __future__ import annotations

from chalicelib.db.transact import Transaction

from chalicelib.catalog import model as catalog_model
from chalicelib.catalog import ratings as catalog
from chalicelib.catalog.ratings import ListingRef, RatingGuard
from chalicelib.entitlements import repository as entitlements
from chalicelib.partners.repository import get_membership
from chalicelib.reviews.model import RatingChange

__all__ = ["ListingRef", "RatingGuard", "find_listing", "is_live", "owns", "partner_of", "add_rating_change",
           "is_marketplace_listing"]


def find_listing(listing_id: str) -> ListingRef | None:
    """The catalog's view of a listing in any status (partner, status, version, rating); None if unknown."""
    return catalog.get_listing_for_owner_check(listing_id)


def is_live(listing: ListingRef) -> bool:
    """Published: what the public catalog shows."""
    return listing.status == catalog_model.PUBLISHED


def is_marketplace_listing(partner_id: str) -> bool:
    """Owned by the marketplace itself (an admin's bundle): no partner to tell about its reviews."""
    return partner_id == catalog_model.PLATFORM_PARTNER_ID


def owns(sub: str, listing_id: str) -> bool:
    """Whether the customer owns the listing, directly or through a bundle (checkout's entitlements)."""
    return entitlements.owns(sub, listing_id)


def partner_of(sub: str) -> str | None:
    """The partner the user belongs to, if any."""
    membership = get_membership(sub)
    return membership.partner_id if membership else None


def add_rating_change(tx: Transaction, listing: ListingRef, change: RatingChange) -> RatingGuard:
    """Add to `tx` the catalog's update of the listing's rating (and of its catalog cards).

    The catalog guards it with the listing's `rev` as read in `listing`; the returned guard says
    whether a failed transaction failed there (then re-read and try again).
    """
    return catalog.add_rating_change(tx, listing, removed=change.removed, added=change.added)
