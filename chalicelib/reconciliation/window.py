"""The period a reconciliation covers: `from` and `to`, each a UTC date or an ISO 8601 timestamp.

Both ends are inclusive: a date `from` starts at 00:00:00.000 UTC of that day, a date `to` ends at
23:59:59.999 UTC of that day; a timestamp is that very instant (to the millisecond; naive = UTC). Stripe
filters on whole seconds (`created`), the ledger on its millisecond timestamps (`at`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed

MAX_DAYS = 3660
ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive
    end: datetime  # exclusive (one millisecond after the inclusive `to`)

    @property
    def gte(self) -> int:
        """Stripe's `created[gte]` (seconds)."""
        return math.floor(self.start.timestamp())

    @property
    def lt(self) -> int:
        """Stripe's `created[lt]` (seconds)."""
        return math.ceil(self.end.timestamp())

    @property
    def lo(self) -> str:
        """The lowest ledger sort key (`<at>#<id>`) inside the window."""
        return clock.iso(self.start)

    @property
    def hi(self) -> str:
        """The highest ledger sort key inside the window: ids sort below `~`."""
        return clock.iso(self.end - ONE_MS) + "~"

    def to_dict(self) -> dict:
        return {"from": clock.iso(self.start), "to": clock.iso(self.end - ONE_MS)}


def _bound(text: str, *, field: str, end: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=timezone.utc)
            return moment + timedelta(days=1) if end else moment
        if "T" not in text and " " not in text:
            raise ValueError(text)
        moment = clock.parse_iso(text)
        return moment + ONE_MS if end else moment
    except (ValueError, OverflowError):
        raise ValidationFailed(f"`{field}` must be a date (YYYY-MM-DD) or an ISO 8601 timestamp.",
                               [{"field": field, "message": "not a date or timestamp", "in": "body"}]) from None


def window(start: str, end: str) -> Window:
    """The window `[from, to]` of a request body, or a 400 naming the field that is wrong."""
    lo, hi = _bound(start, field="from", end=False), _bound(end, field="to", end=True)
    for moment, field in ((lo, "from"), (hi, "to")):
        if not 1970 <= moment.year <= 9998:
            raise ValidationFailed(f"`{field}` must be between 1970 and 9998.",
                                   [{"field": field, "message": "out of range", "in": "body"}])
    if lo >= hi:
        raise ValidationFailed("`from` must not be after `to`.",
                               [{"field": "from", "message": "must not be after to", "in": "body"}])
    if hi - lo > timedelta(days=MAX_DAYS):
        raise ValidationFailed("The period is longer than ten years.",
                               [{"field": "from", "message": "period too long", "in": "body"}])
    return Window(lo, hi)
