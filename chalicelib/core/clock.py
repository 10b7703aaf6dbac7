"""Time, in one place, so tests can move it and every timestamp has the same ISO 8601 UTC shape."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


_now: Callable[[], datetime] = _utc_now


def now() -> datetime:
    return _now()


def set_now(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the real one."""
    global _now
    _now = fn or _utc_now


def iso(moment: datetime) -> str:
    """`2026-11-22T10:00:00.000Z`: always milliseconds, so the strings sort in time order."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(now())


def today() -> date:
    return now().date()


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp or date; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
