"""Review use cases: write, edit and delete one's review, reply, flag, and moderate.

Every write that can move a listing's rating is one transaction holding the review change, the
rating change the catalog derives from it, and (for moderation) the audit record. Both sides are
guarded optimistically: the review row by its `rev`, the listing by whatever the catalog's rating
change conditions on. When a guard fails somebody else changed the review or the listing between our
read and our write, so the whole use case runs again from a fresh read (bounded, with jittered
backoff): the rating change is always computed from the state it is applied to.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

from pynamodb.exceptions import TransactWriteError

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, DomainError, Forbidden, InvalidState, NotFound, UpstreamUnavailable
from chalicelib.core.ids import new_id
from chalicelib.db.pages import Page
from chalicelib.db.transact import Refusal, transaction
from chalicelib.core.identity import Principal
from chalicelib.core.pseudonyms import customer_ref
from chalicelib.partner_feed import outbox, payloads
from chalicelib.reviews import model, ports
from chalicelib.reviews.repository import (
    ReplyAttr, ReviewFlagItem, ReviewHandleItem, ReviewItem, flag_actions, flagged_queue, get_by_id, get_flag,
    get_review, handle_key, index_actions, list_visible, new_flag, new_review_rows, reviews_of_handles,
)

T = TypeVar("T")
log = logging.getLogger("marketplace.reviews")

MAX_ATTEMPTS = 30
BACKOFF_BASE, BACKOFF_CAP = 0.005, 0.25


class _Retry(DomainError):
    """A guard failed because something changed under us: run the use case again from a fresh read."""

    code, status = "conflict", 409


def _retry(_refusal: Refusal) -> DomainError:
    return _Retry("changed concurrently")


def _is_transaction_conflict(exc: UpstreamUnavailable) -> bool:
    """DynamoDB cancels a transaction that raced another one on the same item: safe to run again."""
    cause = exc.__cause__
    if not isinstance(cause, TransactWriteError):
        return False
    return any(r is not None and r.code == "TransactionConflict" for r in (cause.cancellation_reasons or []))


def _with_retries(attempt: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    for number in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except _Retry:
            pass
        except UpstreamUnavailable as exc:
            if not _is_transaction_conflict(exc):
                raise
        sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** number)))
    raise Conflict("The listing's reviews are changing too quickly right now; nothing was written, try again.")


def _text(value: str | None) -> str | None:
    """Plain text is stored as given; an absent or empty optional field is stored as absent."""
    return value if value else None


def _require_listing(listing_id: str) -> ports.ListingRef:
    listing = ports.find_listing(listing_id)
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def _require_live_listing(listing_id: str) -> ports.ListingRef:
    """A listing the public can see (published); any other is not found, as in the catalog."""
    listing = ports.find_listing(listing_id)
    if listing is None or not ports.is_live(listing):
        raise NotFound("No such listing.")
    return listing


def _rating(tx, listing: ports.ListingRef | None, change: model.RatingChange) -> ports.RatingGuard | None:
    if change.is_noop or listing is None:
        return None
    try:
        return ports.add_rating_change(tx, listing, change)
    except ValueError as exc:
        # The review and the listing are read one after the other; when another write lands in between,
        # the listing may no longer count the stars this (stale) review had. The guards would refuse
        # this write anyway: start over from fresh reads instead of failing.
        log.info("rating read between two writes on %s; retrying", listing.listing_id)
        raise _Retry("rating changed between reads") from exc


# --- the author ---------------------------------------------------------------------------------
def create_review(*, user: Principal, listing_id: str, rating: int, title: str | None = None,
                  body: str | None = None) -> ReviewItem:
    """Write the caller's one review of a listing they own; the listing's rating counts it at once."""

    _require_live_listing(listing_id)
    if not ports.owns(user.sub, listing_id):
        raise Forbidden("Only customers who own this listing can review it.")
    if get_review(listing_id, user.sub) is not None:
        raise _already_reviewed()
    review_id = new_id("rev")

    def attempt() -> ReviewItem:
        # Only the listing is read again on a retry: the review's uniqueness is the write's own condition.
        listing = _require_live_listing(listing_id)
        now = clock.now_iso()
        review, handle = new_review_rows(
            review_id=review_id, listing_id=listing_id, partner_id=listing.partner_id, author_sub=user.sub,
            stars=rating, title=_text(title), body=_text(body), listing_version=listing.version, now=now,
        )
        guards: list[ports.RatingGuard | None] = []

        def failed(refusal: Refusal) -> DomainError:
            # The listing moved under us: recompute. Otherwise our own row exists: a second review.
            if guards and guards[0] is not None and guards[0].failed(refusal):
                return _Retry("listing changed")
            return _already_reviewed()

        def write(tx) -> None:
            guards.clear()
            tx.save(review, condition=ReviewItem.pk.does_not_exist())
            tx.save(handle, condition=ReviewHandleItem.pk.does_not_exist())
            guards.append(_rating(tx, listing, model.change_between(None, review.counted)))
            _record_event(tx, review, "review.created")

        outbox.commit(write, on_condition_failed=failed)
        return review

    return _with_retries(attempt)


def _record_event(tx, review: ReviewItem, event_type: str, **edited) -> None:
    """The listing's partner learns of the review (the author by the partner's pseudonymous id); `edited`
    overrides the read row's `stars`, `title`, `body`, `version`, `updated_at` with what the write sets."""
    if ports.is_marketplace_listing(review.partner_id):
        return
    values = {"stars": int(review.stars), "title": review.title, "body": review.body,
              "version": int(review.listing_version), "updated_at": review.updated_at, **edited}
    outbox.record(tx, partner_id=review.partner_id, type=event_type, data=payloads.review_event(
        review_id=review.review_id, listing_id=review.listing_id, rating=values["stars"], title=values["title"],
        body=values["body"], version=values["version"], customer=customer_ref(review.partner_id, review.author_sub),
        created_at=review.created_at, updated_at=values["updated_at"]))


def _already_reviewed() -> Conflict:
    return Conflict("You have already reviewed this listing; edit it with PUT /listings/{id}/reviews/mine.")


def my_review(*, user: Principal, listing_id: str) -> ReviewItem:
    review = get_review(listing_id, user.sub)
    if review is None:
        raise NotFound("You have not reviewed this listing.")
    return review


def edit_my_review(*, user: Principal, listing_id: str, rating: int, title: str | None = None,
                   body: str | None = None) -> ReviewItem:
    """Replace the caller's review; it now reviews the listing's current version."""

    def attempt() -> ReviewItem:
        review = my_review(user=user, listing_id=listing_id)
        if not model.can_edit(review.status):
            raise InvalidState("A moderator hid this review; it cannot be edited (you may delete it).")
        listing = _require_listing(listing_id)
        now = clock.now_iso()
        change = model.change_between(review.counted, model.Counted(model.VISIBLE, rating))
        actions = [
            ReviewItem.stars.set(rating), ReviewItem.listing_version.set(listing.version),
            ReviewItem.updated_at.set(now), ReviewItem.rev.set(int(review.rev) + 1),
            ReviewItem.title.set(title) if title else ReviewItem.title.remove(),
            ReviewItem.body.set(body) if body else ReviewItem.body.remove(),
            *index_actions(listing_id, review.review_id, rating, review.created_at, visible=True),
        ]
        read_rev = int(review.rev)

        def write(tx) -> None:
            tx.update(review, actions=actions,
                      condition=(ReviewItem.rev == read_rev) & (ReviewItem.status == model.VISIBLE))
            _rating(tx, listing, change)
            _record_event(tx, review, "review.updated", stars=rating, title=_text(title), body=_text(body),
                          version=int(listing.version), updated_at=now)

        outbox.commit(write, on_condition_failed=_retry)
        review.stars, review.title, review.body = rating, _text(title), _text(body)
        review.listing_version, review.updated_at, review.rev = listing.version, now, read_rev + 1
        return review

    return _with_retries(attempt)


def delete_my_review(*, user: Principal, listing_id: str) -> ReviewItem:
    """Delete the caller's review (hidden or not); its stars leave the rating if they were counted."""

    def attempt() -> ReviewItem:
        review = my_review(user=user, listing_id=listing_id)
        change = model.change_between(review.counted, None)
        listing = _require_listing(listing_id) if not change.is_noop else None
        with transaction(on_condition_failed=_retry) as tx:
            tx.delete(review, condition=ReviewItem.rev == int(review.rev))
            tx.delete(handle_key(review.review_id))
            _rating(tx, listing, change)
        return review

    return _with_retries(attempt)


def list_reviews(*, listing_id: str, sort: str, limit: int, cursor: str | None) -> Page[ReviewItem]:
    """A page of the visible reviews of a published listing."""
    _require_live_listing(listing_id)
    return list_visible(
        listing_id=listing_id, sort=sort, limit=limit, cursor=cursor, scope=f"reviews:{listing_id}:{sort}",
    )


# --- the listing's partner ----------------------------------------------------------------------
def _review_for_partner(user: Principal, review_id: str) -> ReviewItem:
    """The review, if it is about one of the caller's partner's listings; otherwise not found."""
    partner_id = ports.partner_of(user.sub)
    _, review = get_by_id(review_id)
    if partner_id is None or review is None or review.partner_id != partner_id:
        raise NotFound("No such review of your listings.")
    return review


def reply(*, user: Principal, review_id: str, body: str, edit: bool) -> ReviewItem:
    """Write (POST) or replace (PUT) the partner's one public reply to a review of its listing."""
    review = _review_for_partner(user, review_id)
    now = clock.now_iso()
    if edit and review.reply is None:
        raise NotFound("This review has no reply yet; write one with POST.")
    if not edit and review.reply is not None:
        raise Conflict("This review already has a reply; edit it with PUT.")
    created_at = review.reply.created_at if edit and review.reply is not None else now
    new_reply = ReplyAttr(body=body, partner_id=review.partner_id, author_sub=user.sub,
                          created_at=created_at, updated_at=now)
    guard = ReviewItem.reply.exists() if edit else ReviewItem.reply.does_not_exist()

    def failed(_refusal: Refusal) -> DomainError:
        current = get_review(review.listing_id, review.author_sub)
        if current is None or current.review_id != review_id:
            return NotFound("No such review of your listings.")
        if edit:
            return NotFound("This review has no reply yet; write one with POST.")
        return Conflict("This review already has a reply; edit it with PUT.")

    with transaction(on_condition_failed=failed) as tx:
        tx.update(review, actions=[ReviewItem.reply.set(new_reply)],
                  condition=(ReviewItem.review_id == review_id) & guard)
    review.reply = new_reply
    return review


# --- any signed-in user -------------------------------------------------------------------------
def flag(*, user: Principal, review_id: str, reason: str) -> ReviewHandleItem:
    """Report a visible review to the moderators; once per user per review."""
    handle, review = get_by_id(review_id)
    if handle is None or review is None or not model.can_flag(review.status):
        raise NotFound("No such review.")
    if review.author_sub == user.sub:
        raise Forbidden("You cannot flag your own review.")
    if get_flag(review_id, user.sub) is not None:
        raise _already_flagged()
    now = clock.now_iso()
    flag_row = new_flag(review_id=review_id, flagger_sub=user.sub, reason=reason, now=now)

    def failed(_refusal: Refusal) -> DomainError:
        # Either this user's flag landed first (a double click) or the review was hidden or deleted.
        return _already_flagged() if get_flag(review_id, user.sub) is not None else NotFound("No such review.")

    with transaction(on_condition_failed=failed) as tx:
        tx.save(flag_row, condition=ReviewFlagItem.pk.does_not_exist())
        tx.condition_check(ReviewItem, review.pk, review.sk,
                           condition=(ReviewItem.review_id == review_id) & (ReviewItem.status == model.VISIBLE))
        tx.update(handle, actions=flag_actions(review_id, reason=reason, now=now),
                  condition=ReviewHandleItem.pk.exists())
    return handle


def _already_flagged() -> Conflict:
    return Conflict("You have already flagged this review.")


# --- admins -------------------------------------------------------------------------------------
def flagged_reviews(*, limit: int, cursor: str | None) -> Page[tuple[ReviewHandleItem, ReviewItem]]:
    """The moderation queue: reviews with unresolved flags, the longest-waiting first."""
    page = flagged_queue(limit=limit, cursor=cursor, scope="flagged-reviews")
    reviews = reviews_of_handles(page.items)
    page.items = [(h, reviews[h.review_id]) for h in page.items if h.review_id in reviews]
    return page


def _moderate(*, admin: Principal, review_id: str, action: str, reason: str | None) -> ReviewItem:
    def attempt() -> ReviewItem:
        handle, review = get_by_id(review_id)
        if handle is None or review is None:
            raise NotFound("No such review.")
        pending = int(handle.pending_flags or 0)
        if action == "hide" and not model.can_hide(review.status):
            raise InvalidState("This review is already hidden.")
        if action == "restore" and not model.can_restore(review.status, pending):
            raise InvalidState("This review is visible and has no flags to clear.")
        target = model.HIDDEN if action == "hide" else model.VISIBLE
        before = review.status
        change = model.change_between(review.counted, model.Counted(target, int(review.stars)))
        listing = _require_listing(review.listing_id) if not change.is_noop else None
        now = clock.now_iso()
        visible = target == model.VISIBLE
        review_actions = [
            ReviewItem.status.set(target), ReviewItem.rev.set(int(review.rev) + 1),
            *index_actions(review.listing_id, review_id, int(review.stars), review.created_at, visible=visible),
        ]
        if visible:
            review_actions += [ReviewItem.hidden_reason.remove(), ReviewItem.hidden_at.remove()]
        else:
            review_actions += [ReviewItem.hidden_reason.set(reason), ReviewItem.hidden_at.set(now)]
        H = ReviewHandleItem
        with transaction(on_condition_failed=_retry) as tx:
            tx.update(review, actions=review_actions, condition=ReviewItem.rev == int(review.rev))
            # Any decision resolves the flags seen so far: the review leaves the queue.
            tx.update(handle, actions=[
                H.pending_flags.set(0), H.first_flagged_at.remove(), H.gsi1pk.remove(), H.gsi1sk.remove(),
            ], condition=H.pending_flags == pending)
            tx.save(audit_item(
                actor=admin.sub, actor_roles=admin.groups,
                action="review.hidden" if action == "hide" else (
                    "review.restored" if before == model.HIDDEN else "review.flags_dismissed"),
                entity_type="review", entity_id=review_id, reason=reason,
                data={"listing_id": review.listing_id, "author": review.author_sub, "rating": int(review.stars),
                      "from": before, "to": target, "pending_flags": pending},
            ))
            _rating(tx, listing, change)
        review.status, review.rev = target, int(review.rev) + 1
        review.hidden_reason, review.hidden_at = (None, None) if visible else (reason, now)
        return review

    return _with_retries(attempt)


def hide(*, admin: Principal, review_id: str, reason: str) -> ReviewItem:
    """Hide a review with a reason: it leaves every list and the listing's rating, and the queue."""
    return _moderate(admin=admin, review_id=review_id, action="hide", reason=reason)


def restore(*, admin: Principal, review_id: str, reason: str | None = None) -> ReviewItem:
    """Restore a hidden review (back in the lists and the rating), or keep a flagged one and clear its flags."""
    return _moderate(admin=admin, review_id=review_id, action="restore", reason=reason)
