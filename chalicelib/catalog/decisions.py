"""The admin side of the catalog: the review queue, decisions on submissions and revisions, admin bundles.

Approving publishes (or publishes the revision as the next version) only while the listing's partner
is approved, checked in the same transaction; suspending takes a published listing out of the catalog and
relisting puts it back (again only while its partner is approved).
"""
from __future__ import annotations

from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.content import build_content, refresh_components
from chalicelib.catalog.repository import ListingItem, RevisionItem
from chalicelib.catalog.views import private_view, queue_entry
from chalicelib.catalog.writes import (
    audit, copy, insert_listing, on_failed, partner_must_be_approved, past, retrying, sync_projection, write_transition,
)
from chalicelib.core import clock
from chalicelib.core.errors import InvalidState, NotFound
from chalicelib.core.identity import Principal
from chalicelib.core.ids import new_id
from chalicelib.partner_feed import outbox, payloads


def _require_listing(listing_id: str) -> tuple[ListingItem, RevisionItem | None]:
    listing, revision = repo.get_listing_with_revision(listing_id) if model.is_listing_id(listing_id) else (None, None)
    if listing is None:
        raise NotFound("No such listing.")
    return listing, revision


def _owner_of(listing: ListingItem) -> str | None:
    """The partner a bundle's components must belong to (None: the marketplace's bundles may mix partners)."""
    return None if listing.partner_id == model.PLATFORM_PARTNER_ID else listing.partner_id


def decide(*, admin: Principal, listing_id: str, action: str, reason: str | None = None) -> dict:
    """approve, reject or suspend: a submission, a pending revision, or a published listing."""
    def attempt() -> dict:
        listing, revision = _require_listing(listing_id)
        pending = revision if revision is not None and revision.status == model.REVISION_PENDING else None
        if listing.status == model.PUBLISHED and pending is not None and action in ("approve", "reject"):
            return _decide_revision(admin, listing, pending, action, reason)
        target = model.next_status(action, listing.status)
        if target is None:
            raise InvalidState(f"A {listing.status} listing cannot be {past(action)}"
                               + (" (it has no pending revision)." if listing.status == model.PUBLISHED else "."))
        now = clock.now_iso()
        after = copy(listing)
        after.status, after.updated_at = target, now
        if action == "approve":
            after.published_at = listing.published_at or now
            if listing.type == model.BUNDLE:
                refresh_components(after, _owner_of(after))
        elif action == "reject":
            after.rejection_reason = reason
        elif action == "suspend":
            after.status_reason, after.revision_status = reason, None
        repo.set_index_keys(after, in_queue=False)
        audit_record = audit(admin, f"listing.{past(action)}", listing_id, reason=reason,
                             data={"from": listing.status, "to": target, "version": int(after.version)})
        dropped = revision if action == "suspend" else None

        def write(tx) -> None:  # write_transition's transaction, plus the partner's event
            repo.put_listing(tx, listing, after)
            if action == "approve":
                partner_must_be_approved(tx, listing.partner_id)
            if dropped is not None:
                tx.delete(dropped)
            sync_projection(tx, listing, after)
            tx.save(audit_record)
            _record_decision(tx, after, f"listing.{past(action)}", reason)

        partner_gone = InvalidState("The listing's partner is not approved; it cannot be published.")
        outbox.commit(write, on_condition_failed=on_failed({"partner": partner_gone}))
        return private_view(after, None if action == "suspend" else revision)

    return retrying(attempt)


def _decide_revision(admin: Principal, listing: ListingItem, revision: RevisionItem, action: str,
                     reason: str | None) -> dict:
    now = clock.now_iso()
    after = copy(listing)
    after.updated_at = now
    kept_revision = None
    if action == "approve":
        after.set_content(revision.content(), listing.type)
        after.version = int(listing.version) + 1
        after.revision_status = None
        if listing.type == model.BUNDLE:
            refresh_components(after, _owner_of(after))
    else:
        after.revision_status = model.REVISION_REJECTED
        kept_revision = repo.rejected_revision(revision, reason=reason, now=now)
    partner_gone = InvalidState("The listing's partner is not approved; the revision cannot be published.")
    audit_record = audit(admin, f"listing.revision_{past(action)}", listing.listing_id, reason=reason,
                         data={"changes": revision.changes, "version": int(after.version)})

    def write(tx) -> None:
        repo.put_listing(tx, listing, after)
        if action == "approve":
            partner_must_be_approved(tx, listing.partner_id)
            tx.delete(revision)
            sync_projection(tx, listing, after)
        else:
            tx.save(kept_revision)
        tx.save(audit_record)
        _record_decision(tx, after, f"listing.{past(action)}", reason, revision=True)

    outbox.commit(write, on_condition_failed=on_failed({"partner": partner_gone}))
    return private_view(after, kept_revision)


def _record_decision(tx, listing: ListingItem, event_type: str, reason: str | None, *, revision: bool = False) -> None:
    """The partner's `listing.approved|rejected|suspended` event (none for the marketplace's own bundles)."""
    if listing.partner_id == model.PLATFORM_PARTNER_ID:
        return
    outbox.record(tx, partner_id=listing.partner_id, type=event_type, data=payloads.listing_event(
        listing_id=listing.listing_id, name=listing.name, version=int(listing.version), status=listing.status,
        reason=reason, revision=revision))


def relist(*, admin: Principal, listing_id: str, reason: str) -> dict:
    """Undo a suspension: the listing is published again, back in the catalog, with its audit record.

    Only while its partner is approved (checked in the same transaction: a suspended partner must be
    reinstated first); a bundle's components must still be published (their prices are frozen again).
    """
    def attempt() -> dict:
        listing, _revision = _require_listing(listing_id)
        if listing.status != model.SUSPENDED:
            raise InvalidState(f"A {listing.status} listing cannot be relisted; only suspended ones can.")
        after = copy(listing)
        after.status, after.updated_at, after.status_reason = model.PUBLISHED, clock.now_iso(), None
        if listing.type == model.BUNDLE:
            refresh_components(after, _owner_of(after))
        repo.set_index_keys(after, in_queue=False)
        write_transition(
            before=listing, after=after,
            audit_record=audit(admin, "listing.relisted", listing_id, reason=reason,
                               data={"from": listing.status, "to": model.PUBLISHED, "version": int(after.version)}),
            refused_partner=InvalidState("The listing's partner is not approved; reinstate the partner first."),
            check_partner=listing.partner_id,
        )
        return private_view(after, None)

    return retrying(attempt)


def create_admin_bundle(*, admin: Principal, body: dict) -> dict:
    """An admin's cross-partner bundle: owned by the marketplace and published at once."""
    fields = {**body, "slug": body.get("slug") or model.slugify(body["name"])}
    content = build_content(model.BUNDLE, None, fields, None)
    item = repo.new_listing_item(
        listing_id=new_id("lst"), partner_id=model.PLATFORM_PARTNER_ID, listing_type=model.BUNDLE,
        content=content, status=model.PUBLISHED, actor=admin,
    )
    insert_listing(item, admin, "listing.bundle_created_by_admin", reason=body.get("reason"))
    return private_view(item, None, partner_name=model.PLATFORM_DISPLAY_NAME)


def review_queue(*, limit: int, cursor: str | None) -> dict:
    """Submissions and pending revisions, oldest first, each with its changes against the live version."""
    page = repo.review_queue(limit=limit, cursor=cursor, scope="review-queue")
    items = [queue_entry(row) for row in page.items if isinstance(row, (ListingItem, RevisionItem))]
    return {"items": items, "next_cursor": page.next_cursor}


def get_listing_admin(*, listing_id: str) -> dict:
    listing, revision = _require_listing(listing_id)
    return private_view(listing, revision)
