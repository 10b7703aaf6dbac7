"""Pure payout rules: who is paid in a run, and why the others are skipped."""
from __future__ import annotations

from dataclasses import dataclass

PENDING, PAID, FAILED = "pending", "paid", "failed"
RUNNING, COMPLETED = "running", "completed"
# A run cut short by a failure it cannot go on from (DynamoDB unavailable, an unexpected error): its payouts
# stay pending and the next run finishes them, so the money is safe; the run row says it did not finish.
# (A transfer whose outcome Stripe left unknown does not interrupt the run: that payout stays pending.)
INTERRUPTED = "interrupted"

# Skip reasons, as listed in a run's result.
NOT_APPROVED = "partner_not_approved"
PAYOUTS_DISABLED = "payouts_disabled"
NO_ACCOUNT = "no_payout_account"
BELOW_MINIMUM = "below_minimum"
IN_PROGRESS = "payout_in_progress"
UNKNOWN_PARTNER = "unknown_partner"


@dataclass(frozen=True)
class Candidate:
    partner_id: str
    currency: str
    available: int
    partner_status: str | None
    payouts_enabled: bool
    stripe_account_id: str | None
    open_payout: str | None


def skip_reason(c: Candidate, *, min_payout: int) -> str | None:
    """Why `c` is not paid in this run, or None when it is paid its whole available balance."""
    if c.partner_status is None:
        return UNKNOWN_PARTNER
    if c.partner_status != "approved":
        return NOT_APPROVED
    if c.open_payout:
        return IN_PROGRESS
    if not c.stripe_account_id:
        return NO_ACCOUNT
    if not c.payouts_enabled:
        return PAYOUTS_DISABLED
    if c.available < max(min_payout, 1):
        return BELOW_MINIMUM
    return None
