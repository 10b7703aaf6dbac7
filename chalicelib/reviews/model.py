"""Pure review rules: which moderation moves are allowed, and how each review change moves a rating.

A listing's rating counts exactly its visible reviews. Every review write is described here as the
star value it takes out of the rating and the one it puts in (`RatingChange`), computed from the
review's state before and after the write, so the storage layer only has to apply the change in the
same transaction; `recount` is the definition the stored counters must always equal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from chalicelib.catalog.model import Rating
from chalicelib.core.vocabulary import (  # noqa: F401 - review statuses, sorts and limits, fixed by the contract
    BODY_MAX, HIDDEN, HIGHEST, LOWEST, MAX_STARS, MIN_STARS, NEWEST, REPLY_MAX, REVIEW_SORTS as SORTS,
    REVIEW_STATUSES as STATUSES, TITLE_MAX, VISIBLE,
)


@dataclass(frozen=True)
class Counted:
    """What a review contributes to its listing's rating: its stars and whether it is visible."""

    status: str
    stars: int

    @property
    def counted_stars(self) -> int | None:
        return self.stars if self.status == VISIBLE else None


@dataclass(frozen=True)
class RatingChange:
    """The stars one write takes out of the rating (`removed`) and puts in (`added`)."""

    removed: int | None = None
    added: int | None = None

    @property
    def is_noop(self) -> bool:
        return self.removed == self.added

    def apply_to(self, rating: Rating) -> Rating:
        return rating if self.is_noop else rating.change(removed=self.removed, added=self.added)


def change_between(before: Counted | None, after: Counted | None) -> RatingChange:
    """The rating change of a write that turns `before` into `after` (None: no review)."""
    removed = before.counted_stars if before else None
    added = after.counted_stars if after else None
    if removed == added:
        return RatingChange()
    return RatingChange(removed, added)


def recount(reviews: Iterable[Counted]) -> Rating:
    """The rating a listing must show: a count of its visible reviews from scratch."""
    rating = Rating()
    for review in reviews:
        if review.status == VISIBLE:
            rating = rating.change(added=review.stars)
    return rating


# --- what each actor may do ---------------------------------------------------------------------
def can_edit(status: str) -> bool:
    """An author edits a visible review; a hidden one stays as the moderator left it."""
    return status == VISIBLE


def can_hide(status: str) -> bool:
    return status == VISIBLE


def can_restore(status: str, pending_flags: int) -> bool:
    """Restore brings back a hidden review, or keeps a flagged visible one and clears its flags."""
    return status == HIDDEN or pending_flags > 0


def can_flag(status: str) -> bool:
    """Only what the public can see can be flagged (a hidden review is already dealt with)."""
    return status == VISIBLE
