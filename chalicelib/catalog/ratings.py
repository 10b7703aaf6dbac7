"""The API reviews use to keep a listing's rating exact: read the listing, add the rating change to a write.

A review write and the rating it moves commit together in one transaction, guarded by the listing's
`rev`, so concurrent reviews (and admin decisions) never lose an update: the loser re-reads and retries.
`get_listing_for_owner_check` reads a listing in any state (partner, status, version, rating).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import ListingItem
from chalicelib.catalog.writes import Raced
from chalicelib.core.errors import Conflict, DomainError, NotFound
from chalicelib.db.transact import Refusal, Transaction, transaction


@dataclass(frozen=True)
class ListingRef:
    """What reviews and checkout need to know about any listing, and the guard for changing its rating."""

    listing_id: str
    partner_id: str
    type: str
    status: str
    version: int
    rev: int
    rating: model.Rating
    component_ids: tuple[str, ...]
    item: ListingItem = field(compare=False, repr=False)


def get_listing_for_owner_check(listing_id: str) -> ListingRef | None:
    """Partner, status, version and rating of a listing in any state (one GetItem); None if unknown."""
    item = repo.get_listing(listing_id) if model.is_listing_id(listing_id) else None
    if item is None:
        return None
    return ListingRef(
        listing_id=item.listing_id, partner_id=item.partner_id, type=item.type, status=item.status,
        version=int(item.version), rev=int(item.rev), rating=item.rating(),
        component_ids=tuple(c.listing_id for c in item.content().components), item=item,
    )


@dataclass(frozen=True)
class RatingGuard:
    """Tells whether a failed transaction failed because the listing changed under the rating change."""

    label: str

    def failed(self, refusal: Refusal) -> bool:
        return refusal.has(self.label)


def add_rating_change(
    tx: Transaction, ref: ListingRef, *, removed: int | None = None, added: int | None = None,
) -> RatingGuard:
    """Add to `tx` every write that moves one review's stars in or out of the listing's rating.

    `removed` is the star value (1..5) of a review leaving the count (delete, hide, the old value of
    an edit), `added` one entering it (create, restore, the new value of an edit). The listing row's
    integer counters (count, sum, histogram 1..5) are SET to `ref.rating` changed by them, on the
    condition that the row's `rev` is still `ref.rev`; when the listing is published, its catalog rows
    are rewritten with the new rating (their `top_rated` sort key depends on it).

    Exact under concurrency: if anything wrote the listing since `ref` was read (another review, an
    admin decision), the condition fails and nothing in `tx` is written. Ask the returned guard
    `guard.failed(refusal)` inside your `on_condition_failed`, and when it is true re-read the ref with
    `get_listing_for_owner_check` and try again (`write_with_rating_change` does exactly that).
    Adds at most 1 update + 40 puts to `tx`.
    """
    rating = ref.rating.change(removed=removed, added=added)
    label = f"rating:{ref.listing_id}"
    repo.update_rating(tx, ref.item, rating, rev=ref.rev, label=label)
    if ref.status == model.PUBLISHED:
        for row in repo.projection_rows(ref.item, rating):
            tx.save(row)
    return RatingGuard(label)


def write_with_rating_change(
    listing_id: str, *, removed: int | None = None, added: int | None = None,
    build: Callable[[Transaction, ListingRef], None],
    on_condition_failed: Callable[[Refusal], DomainError] | None = None, attempts: int = 5,
) -> ListingRef:
    """Run `build(tx, ref)` plus the rating change in one transaction, retrying when the listing raced.

    `build` adds the caller's own rows (the review, its guards, the audit record). A failed condition
    that is not the rating guard goes to `on_condition_failed` (default: 409 conflict). Raises
    NotFound for an unknown listing. Returns the ref the successful attempt was based on.
    """
    for _ in range(attempts):
        ref = get_listing_for_owner_check(listing_id)
        if ref is None:
            raise NotFound("No such listing.")
        guard_box: list[RatingGuard] = []

        def choose(refusal: Refusal) -> DomainError:
            if guard_box and guard_box[0].failed(refusal):
                return Raced("The listing changed; retrying.")
            if on_condition_failed is not None:
                return on_condition_failed(refusal)
            return Conflict("The resource was changed by another request; nothing was written.")

        try:
            with transaction(on_condition_failed=choose) as tx:
                build(tx, ref)
                guard_box.append(add_rating_change(tx, ref, removed=removed, added=added))
            return ref
        except Raced:
            continue
    raise Conflict("The listing kept changing while the rating was updated; try again.")
