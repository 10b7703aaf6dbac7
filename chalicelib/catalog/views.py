"""The catalog's response dicts, in one place: what a listing, a revision and a review-queue entry look like.

A listing is shown three ways: publicly (with its partner's display name), privately to its partner and
to admins (with its review state and pending revision), and as a card on a catalog page (built by the
catalog row itself, `CatalogEntryItem.to_card`, since a card is stored ready to serve).
"""
from __future__ import annotations

from typing import Any

from chalicelib.catalog import model
from chalicelib.catalog.repository import ListingItem, RevisionItem


def listing_view(listing: ListingItem, *, partner_name: str | None = None, private: bool = False) -> dict[str, Any]:
    """The live version of a listing; `private` adds the review state only its partner and admins see."""
    content = listing.content()
    out: dict[str, Any] = {
        "listing_id": listing.listing_id, "partner_id": listing.partner_id, "type": listing.type,
        **content.to_dict(), "status": listing.status, "version": int(listing.version),
        "rating": listing.rating().to_dict(),
        "created_at": listing.created_at, "updated_at": listing.updated_at, "published_at": listing.published_at,
    }
    if partner_name is not None:
        out["partner_name"] = partner_name
    if listing.type == model.BUNDLE:
        out.update(content.bundle_dict())
    if private:
        out.update({
            "rejection_reason": listing.rejection_reason, "status_reason": listing.status_reason,
            "submitted_at": listing.submitted_at, "revision_status": listing.revision_status,
        })
    return out


def revision_view(revision: RevisionItem) -> dict[str, Any]:
    """A proposed next version: its review state, the changes against the live version, the new content."""
    content = revision.content()
    out = {
        "status": revision.status, "rejection_reason": revision.rejection_reason,
        "base_version": int(revision.base_version), "submitted_at": revision.submitted_at,
        "updated_at": revision.updated_at, "changes": revision.changes or [], **content.to_dict(),
    }
    if revision.type == model.BUNDLE:
        out.update(content.bundle_dict())
    return out


def private_view(listing: ListingItem, revision: RevisionItem | None, *, partner_name: str | None = None) -> dict:
    """What the partner and admins see: the listing with its review state and its pending revision."""
    return listing_view(listing, private=True, partner_name=partner_name) | {
        "pending_revision": revision_view(revision) if revision is not None else None}


def queue_entry(row: ListingItem | RevisionItem) -> dict[str, Any]:
    """One entry of the review queue: a submission or a revision, with its changes against the live version."""
    proposed = row.content()
    if isinstance(row, RevisionItem):
        return {
            "kind": "revision", "listing_id": row.listing_id, "partner_id": row.partner_id, "type": row.type,
            "name": proposed.name, "submitted_at": row.submitted_at, "live_version": int(row.base_version),
            "changes": row.changes or [], "proposed": model.reviewable(proposed, row.type),
        }
    fields = model.reviewable(proposed, row.type)
    return {
        "kind": "submission", "listing_id": row.listing_id, "partner_id": row.partner_id, "type": row.type,
        "name": proposed.name, "submitted_at": row.submitted_at, "live_version": None,
        "changes": model.diff(None, fields), "proposed": fields,
    }
