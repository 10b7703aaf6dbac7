"""What every listing change is made of: the retry on a raced read, the refusal messages, the catalog sync.

Every change is one DynamoDB transaction holding the listing row (guarded by its `rev` counter, so a
change computed from a stale read is refused and recomputed), the catalog projection rows it adds or
removes, the slug claim when a slug is taken, and the audit record. Projection rows exist exactly while
a listing is published, so the catalog can never show a draft, a suspended or an unlisted listing.
The partner side (`lifecycle`) and the admin side (`decisions`) build their changes from these pieces.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.audit.repository import audit_item
from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import ListingItem
from chalicelib.core.errors import Conflict, DomainError
from chalicelib.core.identity import Principal
from chalicelib.db.transact import Refusal, Transaction, transaction
from chalicelib.partners.repository import require_approved

RETRIES = 4


class Raced(Conflict):
    """The listing row changed between our read and our write; the use case recomputes and retries."""


def retrying(attempt: Callable[[], Any]) -> Any:
    """Run `attempt` again (from a fresh read) while it loses a race, a few times at most."""
    for _ in range(RETRIES):
        try:
            return attempt()
        except Raced:
            continue
    raise Conflict("The listing kept changing while this request tried to update it; try again.")


def on_failed(messages: dict[str, DomainError]) -> Callable[[Refusal], DomainError]:
    """The domain error of the first labelled guard that failed; otherwise the listing raced us."""

    def choose(refusal: Refusal) -> DomainError:
        for label, error in messages.items():
            if refusal.has(label):
                return error
        return Raced("The listing changed; try again.")

    return choose


def slug_taken(slug: str) -> Conflict:
    return Conflict(f"The slug '{slug}' is already taken; choose another.",
                    [{"field": "slug", "message": "is already taken", "in": "body"}])


def audit(actor: Principal, action: str, listing_id: str, *, reason: str | None = None, data: dict | None = None):
    return audit_item(
        actor=actor.sub, actor_roles=actor.groups, action=action, entity_type="listing", entity_id=listing_id,
        reason=reason, data=data or {},
    )


def past(action: str) -> str:
    return {"submit": "submitted", "withdraw": "withdrawn", "unlist": "unlisted", "approve": "approved",
            "reject": "rejected", "suspend": "suspended"}[action]


def copy(item: ListingItem) -> ListingItem:
    """A detached copy of a listing row to build the next state on."""
    return ListingItem.from_raw_data(item.serialize())


def sync_projection(tx: Transaction, before: ListingItem | None, after: ListingItem | None) -> None:
    """Make the catalog rows match `after` (None or not published = no rows), given they matched `before`."""
    shown_before = before if before is not None and before.status == model.PUBLISHED else None
    shown_after = after if after is not None and after.status == model.PUBLISHED else None
    for partition in repo.stale_partitions(shown_before, shown_after):
        tx.delete(repo.entry_key(partition, (shown_before or shown_after).listing_id), label="entry")
    if shown_after is not None:
        for row in repo.projection_rows(shown_after):
            tx.save(row, label="entry")


def partner_must_be_approved(tx: Transaction, partner_id: str) -> None:
    """Refuse `tx` (label `partner`) unless the listing's partner is approved when it commits."""
    if partner_id != model.PLATFORM_PARTNER_ID:
        require_approved(tx, partner_id, label="partner")


def insert_listing(item: ListingItem, actor: Principal, action: str, *, reason: str | None = None) -> None:
    """Write a new listing with its slug claim (and its catalog rows if it is born published)."""
    with transaction(on_condition_failed=on_failed({"slug": slug_taken(item.slug)})) as tx:
        repo.insert_listing(tx, item)
        repo.claim_slug(tx, item.slug, listing_id=item.listing_id, partner_id=item.partner_id)
        sync_projection(tx, None, item)
        tx.save(audit(actor, action, item.listing_id, reason=reason,
                      data={"type": item.type, "name": item.name, "slug": item.slug}))


def write_transition(*, before: ListingItem, after: ListingItem, audit_record: Any, refused_partner: DomainError,
                     check_partner: str | None = None, dropped_revision: Any = None) -> None:
    """One status change in one transaction: the listing row (guarded by `rev`), the partner-approved check
    when `check_partner` is given (refused with `refused_partner`), the revision it drops, the catalog rows
    and the audit record."""
    with transaction(on_condition_failed=on_failed({"partner": refused_partner})) as tx:
        repo.put_listing(tx, before, after)
        if check_partner is not None:
            partner_must_be_approved(tx, check_partner)
        if dropped_revision is not None:
            tx.delete(dropped_revision)
        sync_projection(tx, before, after)
        tx.save(audit_record)
