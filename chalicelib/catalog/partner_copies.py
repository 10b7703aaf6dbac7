"""The catalog's reaction to a partner rename: rewrite the name copied onto its listing and catalog rows.

Public reads serve the partner's display name from copies on the listing row and its catalog rows (one
read per page). A rename (`partners.events.partner_renamed`, wired in `bootstrap`) queues the rewrite
(`partner_jobs`), which runs here one page of listings per job, one listing per transaction (the listing row, guarded by its `rev`, and its catalog rows: the same fit
as any listing change), page by page. Each write is conditional on the copy it replaces being older
than the rename (`partner_copy_at`), so a slow rewrite never overwrites a newer name, a re-run skips what
is done (idempotent, resumable) and rows from before the copies existed are backfilled by running it
with the partner's current name.
"""
from __future__ import annotations

from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import ListingItem
from chalicelib.catalog.writes import copy, on_failed, retrying, sync_projection
from chalicelib.db.transact import transaction


def _current(listing: ListingItem, display_name: str, at: str) -> bool:
    """Whether the listing already carries this rename or a newer one."""
    return listing.partner_copy_at is not None and (
        listing.partner_copy_at > at or (listing.partner_copy_at == at and listing.partner_name == display_name))


def _rewrite(listing_id: str, display_name: str, at: str) -> bool:
    """Put the name on one listing and its catalog rows; False when it was already current (or is gone)."""
    def attempt() -> bool:
        listing = repo.get_listing(listing_id)
        if listing is None or _current(listing, display_name, at):
            return False
        after = copy(listing)
        after.partner_name, after.partner_copy_at = display_name, at
        with transaction(on_condition_failed=on_failed({})) as tx:
            repo.put_listing(tx, listing, after)  # refused (and retried from a fresh read) if it moved
            sync_projection(tx, listing, after)
        return True

    return retrying(attempt)


def rename_page(*, partner_id: str, display_name: str, at: str, after: dict | None = None,
                limit: int = 100) -> tuple[int, dict | None]:
    """Rewrite one page of a partner's listings; returns how many changed and where the next page starts."""
    changed = 0
    listings, next_after = repo.listings_of(partner_id, limit=limit, after=after)
    for listing in listings:
        if not _current(listing, display_name, at) and _rewrite(listing.listing_id, display_name, at):
            changed += 1
    return changed, next_after


def rename_partner_listings(*, partner_id: str, display_name: str, at: str, page_size: int = 100) -> int:
    """Rewrite the copies of every listing of a partner, page after page; returns how many listings changed.

    The job queue runs the same pages one job at a time (`partner_jobs`); this loop is for scripts and tests.
    """
    changed, after = rename_page(partner_id=partner_id, display_name=display_name, at=at, limit=page_size)
    while after:
        more, after = rename_page(partner_id=partner_id, display_name=display_name, at=at, after=after,
                                  limit=page_size)
        changed += more
    return changed
