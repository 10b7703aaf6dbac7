"""Pure payout rules: who is paid in a run, why the others are skipped, and the ids that make it happen once."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

PENDING, PAID, FAILED = "pending", "paid", "failed"
QUEUED, RUNNING, COMPLETED, COMPLETED_WITH_FAILURES = "queued", "running", "completed", "completed_with_failures"
OPEN_STATUSES = (QUEUED, RUNNING)
# Runs of the synchronous era (before runs were jobs) could end `interrupted`; such rows may still be read.
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


def payout_id_for(run_id: str, partner_id: str, currency: str) -> str:
    """The one payout a run may make to a partner in a currency: the same id however often a job runs.

    It is also the Stripe idempotency key and `transfer_group`, so a redelivered job that opens, sends or
    settles "again" meets its own earlier work instead of paying twice.
    """
    digest = hashlib.sha256(f"{run_id}|{partner_id}|{currency}".encode()).hexdigest()[:20]
    return f"po_{run_id.split('_', 1)[-1]}{digest}"


def final_status(*, failed: int, pending: int) -> str:
    return COMPLETED_WITH_FAILURES if failed or pending else COMPLETED


def unknown_outcome_delay(attempt: int) -> int:
    """Seconds before a batch asks Stripe again about transfers whose outcome it does not know."""
    return min(30 * 2 ** attempt, 900)


# After this many rounds (~1 h 45 min of backoff) a batch stops waiting: the payout stays pending, the
# run counts it as `pending` and completes; the next run that meets the partner settles it first.
MAX_UNKNOWN_ATTEMPTS = 12
