"""Review rows in the single table, their index keys and the queries that read them.

Rows (docs/architecture.md has the access-pattern table):
- `REVIEWS#<listing>/BY#<author>` (ReviewItem): the review itself. Its key is the listing and the
  customer, written with attribute_not_exists, so a customer has one review per listing by
  construction. While visible it sits on gsi1 (newest), gsi2 (highest) and gsi3 (lowest) under
  `REVIEWS#<listing>`; hiding removes those keys, so a hidden review cannot show up in a list.
  The partner's reply lives on the same row, so a list page needs no second read.
- `REVIEW#<review_id>/REVIEW` (ReviewHandleItem): finds a review by its id (replies, flags,
  moderation) and carries its moderation state; on gsi1 `FLAGGEDREVIEWS` while it has unresolved flags.
- `REVIEWFLAGS#<review_id>/BY#<user>` (ReviewFlagItem): one flag per user per review by construction.

A deleted review's id is never reused (ids are random), so flags left under it cannot attach to a
later review by the same customer.
"""
from __future__ import annotations

import re
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.reviews import model


class ReplyAttr(MapAttribute):
    body = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    author_sub = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def to_dict(self) -> dict[str, Any]:
        return {
            "body": self.body, "partner_id": self.partner_id,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


class ReviewItem(MarketItem, discriminator="Review"):
    review_id = UnicodeAttribute()
    listing_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()  # the listing's partner: who may reply
    author_sub = UnicodeAttribute()
    stars = NumberAttribute()
    title = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    listing_version = NumberAttribute()  # the live version of the listing when the review was written
    status = UnicodeAttribute()
    hidden_reason = UnicodeAttribute(null=True)
    hidden_at = UnicodeAttribute(null=True)
    # +1 on every write that can move the rating (edit, delete, hide, restore): the optimistic guard
    # that keeps the rating change computed from what was read equal to what is written.
    rev = NumberAttribute(default=0)
    reply = ReplyAttr(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @property
    def counted(self) -> model.Counted:
        return model.Counted(self.status, int(self.stars))

    def to_dict(self, *, private: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "review_id": self.review_id, "listing_id": self.listing_id, "author_id": self.author_sub,
            "rating": int(self.stars), "title": self.title, "body": self.body,
            "listing_version": int(self.listing_version), "verified_purchase": True,
            "reply": self.reply.to_dict() if self.reply is not None else None,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "edited": self.updated_at != self.created_at,
        }
        if private:
            out.update({"status": self.status, "hidden_reason": self.hidden_reason, "hidden_at": self.hidden_at})
        return out


class ReviewHandleItem(MarketItem, discriminator="ReviewHandle"):
    review_id = UnicodeAttribute()
    listing_id = UnicodeAttribute()
    author_sub = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    total_flags = NumberAttribute(default=0)
    pending_flags = NumberAttribute(default=0)  # flags since the last moderation decision
    first_flagged_at = UnicodeAttribute(null=True)  # of the pending flags: the queue order
    last_flagged_at = UnicodeAttribute(null=True)
    last_flag_reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    def review_key(self) -> tuple[str, str]:
        return keys.listing_reviews_pk(self.listing_id), keys.review_by_sk(self.author_sub)

    def moderation_dict(self) -> dict[str, Any]:
        return {
            "pending_flags": int(self.pending_flags or 0), "total_flags": int(self.total_flags or 0),
            "first_flagged_at": self.first_flagged_at, "last_flagged_at": self.last_flagged_at,
            "last_flag_reason": self.last_flag_reason,
        }


class ReviewFlagItem(MarketItem, discriminator="ReviewFlag"):
    review_id = UnicodeAttribute()
    flagger_sub = UnicodeAttribute()
    reason = UnicodeAttribute()
    created_at = UnicodeAttribute()


# --- index keys ----------------------------------------------------------------------------------
def visible_index_keys(listing_id: str, review_id: str, stars: int, created_at: str) -> dict[str, str]:
    """The three list positions of a visible review (a hidden one has none of them)."""
    partition = keys.listing_reviews_pk(listing_id)
    return {
        "gsi1pk": partition, "gsi1sk": keys.review_newest_sk(created_at, review_id),
        "gsi2pk": partition, "gsi2sk": keys.review_highest_sk(stars, created_at, review_id),
        "gsi3pk": partition, "gsi3sk": keys.review_lowest_sk(stars, created_at, review_id),
    }


INDEX_ATTRIBUTES = ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")


def index_actions(listing_id: str, review_id: str, stars: int, created_at: str, *, visible: bool) -> list:
    """Update actions that put a review on its lists (visible) or take it off them (hidden)."""
    if not visible:
        return [getattr(ReviewItem, name).remove() for name in INDEX_ATTRIBUTES]
    return [
        getattr(ReviewItem, name).set(value)
        for name, value in visible_index_keys(listing_id, review_id, stars, created_at).items()
    ]


# --- new rows ------------------------------------------------------------------------------------
def new_review_rows(*, review_id: str, listing_id: str, partner_id: str, author_sub: str, stars: int,
                    title: str | None, body: str | None, listing_version: int,
                    now: str) -> tuple[ReviewItem, ReviewHandleItem]:
    """A visible review (one per author and listing, by its key) and its handle (reachable by review id)."""
    review = ReviewItem(
        pk=keys.listing_reviews_pk(listing_id), sk=keys.review_by_sk(author_sub),
        **visible_index_keys(listing_id, review_id, stars, now),
        review_id=review_id, listing_id=listing_id, partner_id=partner_id, author_sub=author_sub,
        stars=stars, title=title, body=body, listing_version=listing_version,
        status=model.VISIBLE, rev=0, created_at=now, updated_at=now,
    )
    handle = ReviewHandleItem(
        pk=keys.review_pk(review_id), sk=keys.REVIEW_HANDLE_SK, review_id=review_id, listing_id=listing_id,
        author_sub=author_sub, partner_id=partner_id, total_flags=0, pending_flags=0, created_at=now,
    )
    return review, handle


def handle_key(review_id: str) -> ReviewHandleItem:
    """A key-only review handle, for deleting it inside a transaction."""
    return ReviewHandleItem(keys.review_pk(review_id), keys.REVIEW_HANDLE_SK)


def new_flag(*, review_id: str, flagger_sub: str, reason: str, now: str) -> ReviewFlagItem:
    """One user's flag on a review (one per user and review, by its key)."""
    return ReviewFlagItem(pk=keys.review_flags_pk(review_id), sk=keys.review_flag_sk(flagger_sub),
                          review_id=review_id, flagger_sub=flagger_sub, reason=reason, created_at=now)


def flag_actions(review_id: str, *, reason: str, now: str) -> list:
    """The handle's update for one more flag: counters, first/last flag, and its place in the moderation queue."""
    H = ReviewHandleItem
    return [
        H.total_flags.add(1), H.pending_flags.add(1),
        H.first_flagged_at.set(H.first_flagged_at | now), H.last_flagged_at.set(now),
        H.last_flag_reason.set(reason),
        H.gsi1pk.set(keys.FLAGGED_REVIEWS_PK),
        H.gsi1sk.set(H.gsi1sk | keys.flagged_review_sk(now, review_id)),
    ]


# --- reads ---------------------------------------------------------------------------------------
def get_review(listing_id: str, author_sub: str) -> ReviewItem | None:
    try:
        return ReviewItem.get(
            keys.listing_reviews_pk(listing_id), keys.review_by_sk(author_sub), consistent_read=True,
        )
    except ReviewItem.DoesNotExist:
        return None


# What `new_id("rev")` makes; anything else cannot be a review (and must not reach DynamoDB as a key).
REVIEW_ID = re.compile(r"^rev_[0-9A-Z]{26}$")


def get_handle(review_id: str) -> ReviewHandleItem | None:
    if not REVIEW_ID.match(review_id):
        return None
    try:
        return ReviewHandleItem.get(keys.review_pk(review_id), keys.REVIEW_HANDLE_SK, consistent_read=True)
    except ReviewHandleItem.DoesNotExist:
        return None


def get_flag(review_id: str, flagger_sub: str) -> ReviewFlagItem | None:
    try:
        return ReviewFlagItem.get(keys.review_flags_pk(review_id), keys.review_flag_sk(flagger_sub))
    except ReviewFlagItem.DoesNotExist:
        return None


def get_by_id(review_id: str) -> tuple[ReviewHandleItem | None, ReviewItem | None]:
    """The handle and the review it points at (the review is None when it no longer exists)."""
    handle = get_handle(review_id)
    if handle is None:
        return None, None
    review = get_review(handle.listing_id, handle.author_sub)
    if review is None or review.review_id != review_id:
        return handle, None
    return handle, review


_SORT_INDEX = {model.NEWEST: "gsi1", model.HIGHEST: "gsi2", model.LOWEST: "gsi3"}


def list_visible(*, listing_id: str, sort: str, limit: int, cursor: str | None, scope: str) -> Page[ReviewItem]:
    """One page of a listing's visible reviews in `sort` order: one Query on one index partition."""
    index_name = _SORT_INDEX[sort]
    index = getattr(ReviewItem, index_name)
    return query_page(
        lambda size, start: index.query(
            keys.listing_reviews_pk(listing_id), scan_index_forward=False, limit=size, last_evaluated_key=start,
        ),
        limit=limit, cursor=cursor, scope=scope, index=index_name,
    )


def all_reviews_of(listing_id: str) -> list[ReviewItem]:
    """Every review of a listing, visible or hidden (table partition; for recounts and tests)."""
    return [r for r in ReviewItem.query(keys.listing_reviews_pk(listing_id), consistent_read=True)]


def flagged_queue(*, limit: int, cursor: str | None, scope: str) -> Page[ReviewHandleItem]:
    """Reviews with unresolved flags, the longest-waiting first (gsi1 `FLAGGEDREVIEWS`)."""
    return query_page(
        lambda size, start: ReviewHandleItem.gsi1.query(
            keys.FLAGGED_REVIEWS_PK, limit=size, last_evaluated_key=start,
        ),
        limit=limit, cursor=cursor, scope=scope, index="gsi1",
    )


def reviews_of_handles(handles: list[ReviewHandleItem]) -> dict[str, ReviewItem]:
    """The reviews behind a page of handles, in one BatchGetItem, by review id."""
    key_pairs = list(dict.fromkeys(h.review_key() for h in handles))
    if not key_pairs:
        return {}
    found = {}
    for row in ReviewItem.batch_get(key_pairs):
        found[row.review_id] = row
    return found
