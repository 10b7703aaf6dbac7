"""The partner side of a listing's life: create a draft, edit it, submit or withdraw it, propose revisions.

A draft or rejected listing is edited in place; a published one keeps serving its live version while a
revision waits for review. A listing is only ever seen by its own partner here (anybody else gets 404).
`hide_partner_listings` is the catalog's reaction to a partner's suspension (wired in `bootstrap`).
"""
from __future__ import annotations

from chalicelib.catalog import decisions, model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.content import build_content, check_type_fields, refresh_components
from chalicelib.catalog.repository import ListingItem, RevisionItem
from chalicelib.catalog.views import listing_view, private_view
from chalicelib.catalog.writes import (
    audit, copy, insert_listing, on_failed, past, retrying, slug_taken, write_transition,
)
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState, NotFound
from chalicelib.core.identity import Principal
from chalicelib.core.ids import new_id
from chalicelib.db.transact import transaction
from chalicelib.partners.model import Partner
from chalicelib.partners.service import partner_of


def _own(user: Principal, listing_id: str) -> tuple[Partner, ListingItem, RevisionItem | None]:
    """The caller's partner, the listing and its revision; 404 for anybody else's listing."""
    partner = partner_of(user)
    listing, revision = repo.get_listing_with_revision(listing_id) if model.is_listing_id(listing_id) else (None, None)
    if listing is None or listing.partner_id != partner.partner_id:
        raise NotFound("No such listing.")
    return partner, listing, revision


def _require_approved_partner(partner: Partner) -> None:
    if partner.status != "approved":
        raise InvalidState(f"A {partner.status} partner cannot do this; only approved partners can.")


def create_listing(*, user: Principal, body: dict) -> dict:
    """Create a draft app or bundle for the caller's approved partner."""
    partner = partner_of(user)
    _require_approved_partner(partner)
    listing_type = body["type"]
    check_type_fields(listing_type, body)
    explicit_slug = body.get("slug")
    fields = {**body, "slug": explicit_slug or model.slugify(body["name"])}
    content = build_content(listing_type, None, fields, partner.partner_id)
    listing_id = new_id("lst")
    item = repo.new_listing_item(
        listing_id=listing_id, partner_id=partner.partner_id, listing_type=listing_type, content=content,
        status=model.DRAFT, actor=user,
    )
    # the copies every public read serves (renames rewrite them: `partner_copies`)
    item.partner_name, item.partner_status, item.partner_copy_at = partner.display_name, partner.status, \
        partner.updated_at
    try:
        insert_listing(item, user, "listing.created")
    except Conflict:
        if explicit_slug:
            raise
        item.slug = f"{content.slug[:53]}-{listing_id[-6:].lower()}"
        insert_listing(item, user, "listing.created")
    return private_view(item, None)


def list_mine(*, user: Principal, status: str | None, limit: int, cursor: str | None) -> dict:
    partner = partner_of(user)
    page = repo.list_partner_listings(
        partner_id=partner.partner_id, status=status, limit=limit, cursor=cursor,
        scope=f"partner-listings:{partner.partner_id}:{status or '*'}",
    )
    return {"items": [listing_view(i, private=True) for i in page.items], "next_cursor": page.next_cursor}


def get_mine(*, user: Principal, listing_id: str) -> dict:
    _, listing, revision = _own(user, listing_id)
    return private_view(listing, revision)


def update_listing(*, user: Principal, listing_id: str, changes: dict) -> dict:
    """Edit a draft or rejected listing in place, or propose a revision of a published one."""
    def attempt() -> dict:
        partner, listing, revision = _own(user, listing_id)
        check_type_fields(listing.type, changes)
        if listing.status in model.EDIT_IN_PLACE:
            return _edit_in_place(user, partner, listing, changes)
        if listing.status in model.EDIT_AS_REVISION:
            _require_approved_partner(partner)
            return _propose_revision(user, listing, revision, changes)
        raise InvalidState(f"A {listing.status} listing cannot be edited.")

    return retrying(attempt)


def _edit_in_place(user: Principal, partner: Partner, listing: ListingItem, changes: dict) -> dict:
    content = build_content(listing.type, listing.content(), changes, partner.partner_id)
    after = copy(listing)
    after.set_content(content, listing.type)
    after.status, after.updated_at = model.DRAFT, clock.now_iso()
    repo.set_index_keys(after, in_queue=False)
    with transaction(on_condition_failed=on_failed({"slug": slug_taken(content.slug)})) as tx:
        repo.put_listing(tx, listing, after)
        if content.slug != listing.slug:
            repo.release_slug(tx, listing.slug, listing_id=listing.listing_id)
            repo.claim_slug(tx, content.slug, listing_id=listing.listing_id, partner_id=listing.partner_id)
        tx.save(audit(user, "listing.updated", listing.listing_id, data={"fields": sorted(changes)}))
    return private_view(after, None)


def _propose_revision(user: Principal, listing: ListingItem, revision: RevisionItem | None, changes: dict) -> dict:
    live = listing.content()
    if "slug" in changes and changes["slug"] != live.slug:
        raise InvalidState("A published listing keeps its slug; links to it must not break.",
                           [{"field": "slug", "message": "cannot change once published", "in": "body"}])
    base = revision.content() if revision is not None else live
    proposed = build_content(listing.type, base, changes, listing.partner_id)
    changed = model.diff(model.reviewable(live, listing.type), model.reviewable(proposed, listing.type))
    now = clock.now_iso()
    after = copy(listing)
    after.updated_at = now
    new_revision = None
    if changed:
        submitted_at = revision.submitted_at if revision is not None and revision.status == model.REVISION_PENDING \
            else now
        new_revision = repo.new_revision_item(listing, proposed, changes=changed, submitted_at=submitted_at, now=now)
        after.revision_status = model.REVISION_PENDING
    else:
        after.revision_status = None
    with transaction(on_condition_failed=on_failed({})) as tx:
        repo.put_listing(tx, listing, after)
        if new_revision is not None:
            tx.save(new_revision)
        elif revision is not None:
            tx.delete(revision)
        tx.save(audit(user, "listing.revision_proposed" if changed else "listing.revision_dropped",
                      listing.listing_id, data={"changes": changed}))
    return private_view(after, new_revision)


def partner_action(*, user: Principal, listing_id: str, action: str) -> dict:
    """submit, withdraw or unlist one of the caller's listings."""
    def attempt() -> dict:
        partner, listing, revision = _own(user, listing_id)
        if action == "withdraw" and listing.status == model.PUBLISHED and revision is not None:
            return _withdraw_revision(user, listing, revision)
        target = model.next_status(action, listing.status)
        if target is None:
            raise InvalidState(f"A {listing.status} listing cannot be {past(action)}.")
        after = copy(listing)
        after.status, after.updated_at = target, clock.now_iso()
        if action == "submit":
            _require_approved_partner(partner)
            if listing.type == model.BUNDLE:
                refresh_components(after, partner.partner_id)
            after.submitted_at, after.rejection_reason = after.updated_at, None
        if action == "unlist":
            after.revision_status = None
        repo.set_index_keys(after, in_queue=target == model.SUBMITTED)
        write_transition(
            before=listing, after=after,
            audit_record=audit(user, f"listing.{past(action)}", listing_id,
                               data={"from": listing.status, "to": target}),
            refused_partner=InvalidState("Only approved partners can submit listings."),
            check_partner=partner.partner_id if action == "submit" else None,
            dropped_revision=revision if action == "unlist" else None,
        )
        return private_view(after, None if action == "unlist" else revision)

    return retrying(attempt)


def _withdraw_revision(user: Principal, listing: ListingItem, revision: RevisionItem) -> dict:
    after = copy(listing)
    after.revision_status, after.updated_at = None, clock.now_iso()
    with transaction(on_condition_failed=on_failed({})) as tx:
        repo.put_listing(tx, listing, after)
        tx.delete(revision)
        tx.save(audit(user, "listing.revision_withdrawn", listing.listing_id))
    return private_view(after, None)


# --- partner suspension ----------------------------------------------------------------------------
def hide_partner_listings(*, partner_id: str, actor: Principal, reason: str = "partner suspended") -> int:
    """Suspend every published listing of a partner (one transaction each); returns how many.

    Called after a partner is suspended. Safe to re-run: it only touches listings still published. Public
    reads trust the listing's own status, so until it has finished the listings not yet reached stay
    visible; repeating the suspension (`partners.service.decide`) runs it again to finish the job.
    """
    hidden = 0
    for listing in list(repo.published_listings_of(partner_id)):
        try:
            decisions.decide(admin=actor, listing_id=listing.listing_id, action="suspend", reason=reason)
            hidden += 1
        except InvalidState:
            continue  # no longer published: somebody else got there first
    return hidden
