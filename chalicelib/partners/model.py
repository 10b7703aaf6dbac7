"""Pure partner rules: the status machine and which commission rate is in force on a date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PENDING, APPROVED, REJECTED, SUSPENDED = "pending", "approved", "rejected", "suspended"

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({PENDING}), APPROVED),
    "reject": (frozenset({PENDING}), REJECTED),
    "suspend": (frozenset({APPROVED}), SUSPENDED),
    # undoes a suspension; the partner's listings stay suspended until an admin relists each one
    "reinstate": (frozenset({SUSPENDED}), APPROVED),
}

# The past tense of each action, for audit actions (`partner.suspended`) and messages.
PAST = {"approve": "approved", "reject": "rejected", "suspend": "suspended", "reinstate": "reinstated"}

# A partner may edit its profile while its application is open or it is trading.
EDITABLE_STATES = frozenset({PENDING, APPROVED})


@dataclass(frozen=True)
class CommissionEntry:
    bps: int
    effective_from: date
    set_at: str
    set_by: str


@dataclass(frozen=True)
class Partner:
    """A partner as every use case and response sees it (the repository maps rows to this)."""

    partner_id: str
    owner_sub: str
    display_name: str
    contact_email: str
    country: str
    website: str | None
    status: str
    status_reason: str | None
    commission_history: tuple[CommissionEntry, ...]
    payouts_enabled: bool
    stripe_account_id: str | None
    created_at: str
    updated_at: str

    @property
    def is_approved(self) -> bool:
        return self.status == APPROVED

    def commission_bps(self, on: date, default_bps: int) -> int:
        return commission_in_force(list(self.commission_history), on, default_bps)


def next_status(action: str, current: str) -> str | None:
    """The status `action` leads to from `current`, or None when it is not allowed."""
    allowed_from, target = TRANSITIONS[action]
    return target if current in allowed_from else None


def commission_in_force(history: list[CommissionEntry], on: date, default_bps: int) -> int:
    """The rate whose `effective_from` is the latest not after `on`; among equal dates the last set wins."""
    eligible = [e for e in history if e.effective_from <= on]
    if not eligible:
        return default_bps
    return max(eligible, key=lambda e: (e.effective_from, e.set_at)).bps
