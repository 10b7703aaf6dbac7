"""Catalog use cases: drafts, submission review, revisions, bundles, and what other aggregates read.

Every change is one DynamoDB transaction holding the listing row (guarded by its `rev` counter, so a
change computed from a stale read is refused and recomputed), the catalog projection rows it adds or
removes, the slug claim when a slug is taken, and the audit record. Projection rows exist exactly while
a listing is published, so the catalog can never show a draft, a suspended or an unlisted listing.

Other aggregates use:
- `get_live_listings(ids)`: the live versions checkout freezes into order lines (one BatchGet).
- `get_listing_for_owner_check(id)`: partner, status, version and rating state of any listing.
- `add_rating_change(tx, ref, removed=, added=)`: the rating update a review write adds to its own
  transaction (or `write_with_rating_change`, which also retries when a concurrent write won).
- `hide_partner_listings(partner_id, actor)`: called when a partner is suspended.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from chalicelib.audit.repository import audit_item
from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import CatalogEntryItem, ListingItem, RevisionItem, SlugItem
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, DomainError, InvalidState, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.money import Component, Money
from chalicelib.db import keys
from chalicelib.db.transact import Refusal, Transaction, transaction
from chalicelib.core.identity import Principal

LISTING_ID = re.compile(r"^lst_[0-9A-Z]{26}$")
RETRIES = 4


class _Raced(Conflict):
    """The listing row changed between our read and our write; the use case recomputes and retries."""


def _retrying(attempt: Callable[[], Any]) -> Any:
    for _ in range(RETRIES):
        try:
            return attempt()
        except _Raced:
            continue
    raise Conflict("The listing kept changing while this request tried to update it; try again.")


def _on_failed(messages: dict[str, DomainError]) -> Callable[[Refusal], DomainError]:
    """The domain error of the first labelled guard that failed; otherwise the listing raced us."""

    def choose(refusal: Refusal) -> DomainError:
        for label, error in messages.items():
            if refusal.has(label):
                return error
        return _Raced("The listing changed; try again.")

    return choose


def _audit(actor: Principal, action: str, listing_id: str, *, reason: str | None = None, data: dict | None = None):
    return audit_item(
        actor=actor.sub, actor_roles=actor.groups, action=action, entity_type="listing", entity_id=listing_id,
        reason=reason, data=data or {},
    )


def _copy(item: ListingItem) -> ListingItem:
    """A detached copy of a listing row to build the next state on."""
    return ListingItem.from_raw_data(item.serialize())


def _put_listing(tx: Transaction, before: ListingItem, after: ListingItem) -> None:
    """Write the next state of a listing row, refused if anything changed it since `before` was read."""
    after.rev = int(before.rev) + 1
    tx.save(after, condition=ListingItem.rev == int(before.rev), label="rev")


def _sync_projection(tx: Transaction, before: ListingItem | None, after: ListingItem | None) -> None:
    """Make the catalog rows match `after` (None or not published = no rows), given they matched `before`."""
    shown_before = before if before is not None and before.status == model.PUBLISHED else None
    shown_after = after if after is not None and after.status == model.PUBLISHED else None
    for partition in repo.stale_partitions(shown_before, shown_after):
        tx.delete(repo.entry_key(partition, (shown_before or shown_after).listing_id), label="entry")
    if shown_after is not None:
        for row in repo.projection_rows(shown_after):
            tx.save(row, label="entry")


def _partner_must_be_approved(tx: Transaction, partner_id: str) -> None:
    if partner_id == model.PLATFORM_PARTNER_ID:
        return
    from chalicelib.partners.repository import PartnerItem

    tx.condition_check(PartnerItem, keys.partner_pk(partner_id), keys.PROFILE_SK,
                       condition=PartnerItem.status == "approved", label="partner")


def _set_index_keys(item: ListingItem, *, in_queue: bool) -> None:
    for name, value in repo.listing_index_keys(item, item.status, in_queue=in_queue).items():
        setattr(item, name, value)


# --- partner side ---------------------------------------------------------------------------------
def _partner_of(user: Principal):
    from chalicelib.partners.service import partner_of

    return partner_of(user)


def _own(user: Principal, listing_id: str) -> tuple[Any, ListingItem, RevisionItem | None]:
    """The caller's partner, the listing and its revision; 404 for anybody else's listing."""
    partner = _partner_of(user)
    listing, revision = repo.get_listing_with_revision(listing_id) if LISTING_ID.match(listing_id) else (None, None)
    if listing is None or listing.partner_id != partner.partner_id:
        raise NotFound("No such listing.")
    return partner, listing, revision


def _require_approved_partner(partner) -> None:
    if partner.status != "approved":
        raise InvalidState(f"A {partner.status} partner cannot do this; only approved partners can.")


def _component_problems_or_raise(problems: list[dict[str, str]], message: str, error=ValidationFailed) -> None:
    if problems:
        raise error(message, [{**p, "in": "body"} for p in problems])


def _resolve_components(
    component_ids: list[str], split: dict, currency: str, owner_partner_id: str | None, *, error=ValidationFailed,
) -> tuple[Component, ...]:
    """Validate a bundle's components and split; return them with their current list prices."""
    found_items = repo.batch_get_listings(component_ids)
    found = {
        i: model.ComponentInfo(i, it.partner_id, it.type, it.status, Money(int(it.price_amount), it.price_currency))
        for i, it in found_items.items()
    }
    problems = model.component_problems(component_ids, found, currency=currency, owner_partner_id=owner_partner_id)
    problems += model.split_problems(split, component_ids)
    _component_problems_or_raise(problems, "The bundle's components or split are not valid.", error)
    return model.to_components(component_ids, found)


def _check_type_fields(listing_type: str, fields: dict) -> None:
    if listing_type == model.APP:
        extra = [n for n in ("components", "split") if n in fields]
        if extra:
            raise ValidationFailed(
                "Only bundles have components and a split.",
                [{"field": n, "message": "is only allowed on bundles", "in": "body"} for n in extra],
            )


def _build_content(listing_type: str, base: model.Content | None, fields: dict, owner: str | None) -> model.Content:
    """The content after applying `fields` to `base` (None for a new listing), bundles re-validated."""
    def pick(name: str, default: Any) -> Any:
        return fields[name] if name in fields else default

    price = Money.from_dict(fields["price"]) if "price" in fields else base.price  # type: ignore[union-attr]
    component_ids = fields.get("components")
    if component_ids is None and base is not None:
        component_ids = [c.listing_id for c in base.components]
    split = pick("split", base.split if base else {"method": "pro_rata"})
    content = model.Content(
        name=pick("name", base.name if base else ""), slug=pick("slug", base.slug if base else ""),
        summary=pick("summary", base.summary if base else ""),
        description=pick("description", base.description if base else ""),
        category=pick("category", base.category if base else ""),
        tags=tuple(dict.fromkeys(pick("tags", list(base.tags) if base else []))), price=price,
        split=split if listing_type == model.BUNDLE else {"method": "pro_rata"},
    )
    if listing_type == model.BUNDLE:
        touched = base is None or any(n in fields for n in ("components", "split", "price"))
        if touched:
            components = _resolve_components(list(component_ids or []), split, price.currency, owner)
        else:
            components = base.components  # type: ignore[union-attr]
        content = model.Content(**{**content.__dict__, "components": components})
    return content


def create_listing(*, user: Principal, body: dict) -> dict:
    """Create a draft app or bundle for the caller's approved partner."""
    partner = _partner_of(user)
    _require_approved_partner(partner)
    listing_type = body["type"]
    _check_type_fields(listing_type, body)
    explicit_slug = body.get("slug")
    fields = {**body, "slug": explicit_slug or model.slugify(body["name"])}
    content = _build_content(listing_type, None, fields, partner.partner_id)
    listing_id = new_id("lst")
    item = _new_listing_item(
        listing_id=listing_id, partner_id=partner.partner_id, listing_type=listing_type, content=content,
        status=model.DRAFT, actor=user,
    )
    try:
        _insert_listing(item, user, "listing.created")
    except Conflict:
        if explicit_slug:
            raise
        item.slug = f"{content.slug[:53]}-{listing_id[-6:].lower()}"
        _insert_listing(item, user, "listing.created")
    return item.to_dict(private=True) | {"pending_revision": None}


def _new_listing_item(*, listing_id: str, partner_id: str, listing_type: str, content: model.Content, status: str,
                      actor: Principal) -> ListingItem:
    now = clock.now_iso()
    item = ListingItem(
        pk=keys.listing_pk(listing_id), sk=keys.LISTING_SK, listing_id=listing_id, partner_id=partner_id,
        type=listing_type, status=status, version=1, rev=0, created_by=actor.sub, created_at=now, updated_at=now,
        **repo.content_attributes(content, listing_type), **repo.rating_attributes(model.Rating()),
    )
    if status == model.PUBLISHED:
        item.published_at = item.submitted_at = now
    _set_index_keys(item, in_queue=False)
    return item


def _insert_listing(item: ListingItem, actor: Principal, action: str, *, reason: str | None = None) -> None:
    """Write a new listing with its slug claim (and its catalog rows if it is born published)."""
    taken = Conflict(f"The slug '{item.slug}' is already taken; choose another.",
                     [{"field": "slug", "message": "is already taken", "in": "body"}])
    with transaction(on_condition_failed=_on_failed({"slug": taken})) as tx:
        item.rev = 1
        tx.save(item, condition=ListingItem.pk.does_not_exist(), label="new")
        tx.save(SlugItem(pk=keys.slug_pk(item.slug), sk=keys.SLUG_SK, slug=item.slug, listing_id=item.listing_id,
                         partner_id=item.partner_id), condition=SlugItem.pk.does_not_exist(), label="slug")
        _sync_projection(tx, None, item)
        tx.save(_audit(actor, action, item.listing_id, reason=reason,
                       data={"type": item.type, "name": item.name, "slug": item.slug}))


def list_mine(*, user: Principal, status: str | None, limit: int, cursor: str | None) -> dict:
    partner = _partner_of(user)
    page = repo.list_partner_listings(
        partner_id=partner.partner_id, status=status, limit=limit, cursor=cursor,
        scope=f"partner-listings:{partner.partner_id}:{status or '*'}",
    )
    return {"items": [i.to_dict(private=True) for i in page.items], "next_cursor": page.next_cursor}


def _private_view(listing: ListingItem, revision: RevisionItem | None) -> dict:
    return listing.to_dict(private=True) | {"pending_revision": revision.to_dict() if revision else None}


def get_mine(*, user: Principal, listing_id: str) -> dict:
    _, listing, revision = _own(user, listing_id)
    return _private_view(listing, revision)


def update_listing(*, user: Principal, listing_id: str, changes: dict) -> dict:
    """Edit a draft or rejected listing in place, or propose a revision of a published one."""
    def attempt() -> dict:
        partner, listing, revision = _own(user, listing_id)
        _check_type_fields(listing.type, changes)
        if listing.status in model.EDIT_IN_PLACE:
            return _edit_in_place(user, partner, listing, changes)
        if listing.status in model.EDIT_AS_REVISION:
            _require_approved_partner(partner)
            return _propose_revision(user, listing, revision, changes)
        raise InvalidState(f"A {listing.status} listing cannot be edited.")

    return _retrying(attempt)


def _edit_in_place(user: Principal, partner, listing: ListingItem, changes: dict) -> dict:
    content = _build_content(listing.type, listing.content(), changes, partner.partner_id)
    after = _copy(listing)
    after.set_content(content, listing.type)
    after.status, after.updated_at = model.DRAFT, clock.now_iso()
    _set_index_keys(after, in_queue=False)
    taken = Conflict(f"The slug '{content.slug}' is already taken; choose another.",
                     [{"field": "slug", "message": "is already taken", "in": "body"}])
    with transaction(on_condition_failed=_on_failed({"slug": taken})) as tx:
        _put_listing(tx, listing, after)
        if content.slug != listing.slug:
            tx.delete(SlugItem(pk=keys.slug_pk(listing.slug), sk=keys.SLUG_SK),
                       condition=SlugItem.listing_id == listing.listing_id, label="old-slug")
            tx.save(SlugItem(pk=keys.slug_pk(content.slug), sk=keys.SLUG_SK, slug=content.slug,
                             listing_id=listing.listing_id, partner_id=listing.partner_id),
                    condition=SlugItem.pk.does_not_exist(), label="slug")
        tx.save(_audit(user, "listing.updated", listing.listing_id, data={"fields": sorted(changes)}))
    return _private_view(after, None)


def _propose_revision(user: Principal, listing: ListingItem, revision: RevisionItem | None, changes: dict) -> dict:
    live = listing.content()
    if "slug" in changes and changes["slug"] != live.slug:
        raise InvalidState("A published listing keeps its slug; links to it must not break.",
                           [{"field": "slug", "message": "cannot change once published", "in": "body"}])
    base = revision.content() if revision is not None else live
    proposed = _build_content(listing.type, base, changes, listing.partner_id)
    changed = model.diff(model.reviewable(live, listing.type), model.reviewable(proposed, listing.type))
    now = clock.now_iso()
    after = _copy(listing)
    after.updated_at = now
    new_revision = None
    if changed:
        submitted_at = revision.submitted_at if revision is not None and revision.status == model.REVISION_PENDING \
            else now
        new_revision = RevisionItem(
            pk=keys.listing_pk(listing.listing_id), sk=keys.REVISION_SK, listing_id=listing.listing_id,
            partner_id=listing.partner_id, type=listing.type, status=model.REVISION_PENDING,
            base_version=int(listing.version), changes=changed, submitted_at=submitted_at, updated_at=now,
            gsi1pk=keys.REVIEW_QUEUE_PK, gsi1sk=keys.created_sk(submitted_at, listing.listing_id),
            **repo.content_attributes(proposed, listing.type),
        )
        after.revision_status = model.REVISION_PENDING
    else:
        after.revision_status = None
    with transaction(on_condition_failed=_on_failed({})) as tx:
        _put_listing(tx, listing, after)
        if new_revision is not None:
            tx.save(new_revision)
        elif revision is not None:
            tx.delete(revision)
        tx.save(_audit(user, "listing.revision_proposed" if changed else "listing.revision_dropped",
                       listing.listing_id, data={"changes": changed}))
    return _private_view(after, new_revision)


def partner_action(*, user: Principal, listing_id: str, action: str) -> dict:
    """submit, withdraw or unlist one of the caller's listings."""
    def attempt() -> dict:
        partner, listing, revision = _own(user, listing_id)
        if action == "withdraw" and listing.status == model.PUBLISHED and revision is not None:
            return _withdraw_revision(user, listing, revision)
        target = model.next_status(action, listing.status)
        if target is None:
            raise InvalidState(f"A {listing.status} listing cannot be {_past(action)}.")
        after = _copy(listing)
        after.status, after.updated_at = target, clock.now_iso()
        if action == "submit":
            _require_approved_partner(partner)
            if listing.type == model.BUNDLE:
                content = listing.content()
                after.set_content(model.Content(**{**content.__dict__, "components": _resolve_components(
                    [c.listing_id for c in content.components], content.split, content.price.currency,
                    partner.partner_id, error=InvalidState)}), listing.type)
            after.submitted_at, after.rejection_reason = after.updated_at, None
        if action == "unlist":
            after.revision_status = None
        _set_index_keys(after, in_queue=target == model.SUBMITTED)
        partner_check = InvalidState("Only approved partners can submit listings.")
        with transaction(on_condition_failed=_on_failed({"partner": partner_check})) as tx:
            _put_listing(tx, listing, after)
            if action == "submit":
                _partner_must_be_approved(tx, partner.partner_id)
            if action == "unlist" and revision is not None:
                tx.delete(revision)
            _sync_projection(tx, listing, after)
            tx.save(_audit(user, f"listing.{_past(action)}", listing_id, data={"from": listing.status, "to": target}))
        return _private_view(after, None if action == "unlist" else revision)

    return _retrying(attempt)


def _withdraw_revision(user: Principal, listing: ListingItem, revision: RevisionItem) -> dict:
    after = _copy(listing)
    after.revision_status, after.updated_at = None, clock.now_iso()
    with transaction(on_condition_failed=_on_failed({})) as tx:
        _put_listing(tx, listing, after)
        tx.delete(revision)
        tx.save(_audit(user, "listing.revision_withdrawn", listing.listing_id))
    return _private_view(after, None)


def _past(action: str) -> str:
    return {"submit": "submitted", "withdraw": "withdrawn", "unlist": "unlisted", "approve": "approved",
            "reject": "rejected", "suspend": "suspended"}[action]


# --- admin side ----------------------------------------------------------------------------------
def _require_listing(listing_id: str) -> tuple[ListingItem, RevisionItem | None]:
    listing, revision = repo.get_listing_with_revision(listing_id) if LISTING_ID.match(listing_id) else (None, None)
    if listing is None:
        raise NotFound("No such listing.")
    return listing, revision


def decide(*, admin: Principal, listing_id: str, action: str, reason: str | None = None) -> dict:
    """approve, reject or suspend: a submission, a pending revision, or a published listing."""
    def attempt() -> dict:
        listing, revision = _require_listing(listing_id)
        pending = revision if revision is not None and revision.status == model.REVISION_PENDING else None
        if listing.status == model.PUBLISHED and pending is not None and action in ("approve", "reject"):
            return _decide_revision(admin, listing, pending, action, reason)
        target = model.next_status(action, listing.status)
        if target is None:
            raise InvalidState(f"A {listing.status} listing cannot be {_past(action)}"
                               + (" (it has no pending revision)." if listing.status == model.PUBLISHED else "."))
        now = clock.now_iso()
        after = _copy(listing)
        after.status, after.updated_at = target, now
        if action == "approve":
            after.published_at = listing.published_at or now
            if listing.type == model.BUNDLE:
                _refresh_components(after)
        elif action == "reject":
            after.rejection_reason = reason
        elif action == "suspend":
            after.status_reason, after.revision_status = reason, None
        _set_index_keys(after, in_queue=False)
        partner_gone = InvalidState("The listing's partner is not approved; it cannot be published.")
        with transaction(on_condition_failed=_on_failed({"partner": partner_gone})) as tx:
            _put_listing(tx, listing, after)
            if action == "approve":
                _partner_must_be_approved(tx, listing.partner_id)
            if action == "suspend" and revision is not None:
                tx.delete(revision)
            _sync_projection(tx, listing, after)
            tx.save(_audit(admin, f"listing.{_past(action)}", listing_id, reason=reason,
                           data={"from": listing.status, "to": target, "version": int(after.version)}))
        return _private_view(after, None if action == "suspend" else revision)

    return _retrying(attempt)


def _refresh_components(after: ListingItem) -> None:
    """Freeze the components' current list prices into the bundle being published."""
    content = after.content()
    owner = None if after.partner_id == model.PLATFORM_PARTNER_ID else after.partner_id
    components = _resolve_components([c.listing_id for c in content.components], content.split,
                                     content.price.currency, owner, error=InvalidState)
    after.set_content(model.Content(**{**content.__dict__, "components": components}), after.type)


def _decide_revision(admin: Principal, listing: ListingItem, revision: RevisionItem, action: str,
                     reason: str | None) -> dict:
    now = clock.now_iso()
    after = _copy(listing)
    after.updated_at = now
    kept_revision = None
    if action == "approve":
        after.set_content(revision.content(), listing.type)
        after.version = int(listing.version) + 1
        after.revision_status = None
        if listing.type == model.BUNDLE:
            _refresh_components(after)
    else:
        after.revision_status = model.REVISION_REJECTED
        kept_revision = RevisionItem.from_raw_data(revision.serialize())
        kept_revision.status, kept_revision.rejection_reason, kept_revision.updated_at = (
            model.REVISION_REJECTED, reason, now)
        kept_revision.gsi1pk = kept_revision.gsi1sk = None
    partner_gone = InvalidState("The listing's partner is not approved; the revision cannot be published.")
    with transaction(on_condition_failed=_on_failed({"partner": partner_gone})) as tx:
        _put_listing(tx, listing, after)
        if action == "approve":
            _partner_must_be_approved(tx, listing.partner_id)
            tx.delete(revision)
            _sync_projection(tx, listing, after)
        else:
            tx.save(kept_revision)
        tx.save(_audit(admin, f"listing.revision_{_past(action)}", listing.listing_id, reason=reason,
                       data={"changes": revision.changes, "version": int(after.version)}))
    return _private_view(after, kept_revision)


def create_admin_bundle(*, admin: Principal, body: dict) -> dict:
    """An admin's cross-partner bundle: owned by the marketplace and published at once."""
    fields = {**body, "slug": body.get("slug") or model.slugify(body["name"])}
    content = _build_content(model.BUNDLE, None, fields, None)
    item = _new_listing_item(
        listing_id=new_id("lst"), partner_id=model.PLATFORM_PARTNER_ID, listing_type=model.BUNDLE,
        content=content, status=model.PUBLISHED, actor=admin,
    )
    _insert_listing(item, admin, "listing.bundle_created_by_admin", reason=body.get("reason"))
    return item.to_dict(private=True, partner_name=model.PLATFORM_DISPLAY_NAME) | {"pending_revision": None}


def review_queue(*, limit: int, cursor: str | None) -> dict:
    """Submissions and pending revisions, oldest first, each with its changes against the live version."""
    page = repo.review_queue(limit=limit, cursor=cursor, scope="review-queue")
    items = []
    for row in page.items:
        if isinstance(row, RevisionItem):
            proposed = row.content()
            items.append({
                "kind": "revision", "listing_id": row.listing_id, "partner_id": row.partner_id, "type": row.type,
                "name": proposed.name, "submitted_at": row.submitted_at, "live_version": int(row.base_version),
                "changes": row.changes or [], "proposed": model.reviewable(proposed, row.type),
            })
        elif isinstance(row, ListingItem):
            proposed = row.content()
            fields = model.reviewable(proposed, row.type)
            items.append({
                "kind": "submission", "listing_id": row.listing_id, "partner_id": row.partner_id, "type": row.type,
                "name": proposed.name, "submitted_at": row.submitted_at, "live_version": None,
                "changes": model.diff(None, fields), "proposed": fields,
            })
    return {"items": items, "next_cursor": page.next_cursor}


def get_listing_admin(*, listing_id: str) -> dict:
    listing, revision = _require_listing(listing_id)
    return _private_view(listing, revision)


# --- partner suspension ----------------------------------------------------------------------------
def hide_partner_listings(*, partner_id: str, actor: Principal, reason: str = "partner suspended") -> int:
    """Suspend every published listing of a partner (one transaction each); returns how many.

    Called after a partner is suspended. Safe to re-run: it only touches listings still published.
    Until it has finished, public reads also hide the listings of a partner that is not approved.
    """
    hidden = 0
    for listing in list(repo.published_listings_of(partner_id)):
        try:
            decide(admin=actor, listing_id=listing.listing_id, action="suspend", reason=reason)
            hidden += 1
        except InvalidState:
            continue  # no longer published: somebody else got there first
    return hidden


# --- what other aggregates read ------------------------------------------------------------------
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
    wanted = [i for i in dict.fromkeys(listing_ids) if isinstance(i, str) and LISTING_ID.match(i)]
    found = repo.batch_get_listings(wanted)
    return {i: _live(item) for i, item in found.items() if item.status == model.PUBLISHED}


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
    item = repo.get_listing(listing_id) if isinstance(listing_id, str) and LISTING_ID.match(listing_id) else None
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
    item = ref.item
    actions = [getattr(ListingItem, name).set(value) for name, value in repo.rating_attributes(rating).items()]
    actions.append(ListingItem.rev.set(ref.rev + 1))
    label = f"rating:{ref.listing_id}"
    tx.update(ListingItem(pk=item.pk, sk=item.sk), actions=actions, condition=ListingItem.rev == ref.rev, label=label)
    if ref.status == model.PUBLISHED:
        for row in repo.projection_rows(item, rating):
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
                return _Raced("The listing changed; retrying.")
            if on_condition_failed is not None:
                return on_condition_failed(refusal)
            return Conflict("The resource was changed by another request; nothing was written.")

        try:
            with transaction(on_condition_failed=choose) as tx:
                build(tx, ref)
                guard_box.append(add_rating_change(tx, ref, removed=removed, added=added))
            return ref
        except _Raced:
            continue
    raise Conflict("The listing kept changing while the rating was updated; try again.")


# --- public catalog --------------------------------------------------------------------------------
def categories() -> list[dict[str, str]]:
    return [{"category_id": c, "name": n} for c, n in model.CATEGORIES]


def _partner_names(partner_ids: Iterable[str]) -> dict[str, Any]:
    """Display name and status of each partner (one BatchGetItem)."""
    from chalicelib.partners.repository import PartnerItem

    wanted = [p for p in dict.fromkeys(partner_ids) if p != model.PLATFORM_PARTNER_ID]
    rows = repo.batch_get((keys.partner_pk(p), keys.PROFILE_SK) for p in wanted)
    found: dict[str, Any] = {r.partner_id: r for r in rows if isinstance(r, PartnerItem)}
    return found


def public_listing(id_or_slug: str) -> dict:
    """A published listing by id or slug, with its partner's display name: at most 2 DynamoDB calls."""
    from chalicelib.partners.repository import PartnerItem, get_partner

    listing: ListingItem | None = None
    partner: Any = None
    if LISTING_ID.match(id_or_slug):
        listing = repo.get_listing(id_or_slug)
        if listing is not None and listing.status == model.PUBLISHED \
                and listing.partner_id != model.PLATFORM_PARTNER_ID:
            partner = get_partner(listing.partner_id)
    elif re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", id_or_slug) and len(id_or_slug) <= 80:
        claim = repo.get_slug(id_or_slug)
        if claim is not None:
            wanted = [(keys.listing_pk(claim.listing_id), keys.LISTING_SK)]
            if claim.partner_id != model.PLATFORM_PARTNER_ID:
                wanted.append((keys.partner_pk(claim.partner_id), keys.PROFILE_SK))
            for row in repo.batch_get(wanted):
                if isinstance(row, ListingItem):
                    listing = row
                elif isinstance(row, PartnerItem):
                    partner = row
    if listing is None or listing.status != model.PUBLISHED:
        raise NotFound("No such listing in the catalog.")
    if listing.partner_id == model.PLATFORM_PARTNER_ID:
        name = model.PLATFORM_DISPLAY_NAME
    elif partner is None or partner.status != "approved":
        raise NotFound("No such listing in the catalog.")
    else:
        name = partner.display_name
    return listing.to_dict(partner_name=name)


def entry_cards(entries: list[CatalogEntryItem]) -> list[dict]:
    """Cards for a page of entries, with partner names; entries of a non-approved partner are dropped."""
    partners = _partner_names(e.partner_id for e in entries)
    cards = []
    for entry in entries:
        if entry.partner_id == model.PLATFORM_PARTNER_ID:
            cards.append(entry.to_card(model.PLATFORM_DISPLAY_NAME))
            continue
        partner = partners.get(entry.partner_id)
        if partner is not None and partner.status == "approved":
            cards.append(entry.to_card(partner.display_name))
    return cards
