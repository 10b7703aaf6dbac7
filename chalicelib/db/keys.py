"""Key builders for the single table: the only place key strings are made.

Every entity lives in one table under `pk`/`sk`, and reaches the generic overloaded indexes
`gsi1`..`gsi3` through `gsiNpk`/`gsiNsk`. Each function here names an access pattern; docs/architecture.md's
access-pattern table lists which route uses which.
"""
from __future__ import annotations

SEP = "#"


def _k(*parts: object) -> str:
    return SEP.join(str(p) for p in parts)


# --- users and partners -------------------------------------------------------------------------
def user_pk(sub: str) -> str:
    return _k("USER", sub)


USER_PARTNER_SK = "PARTNER"  # the membership row: which partner a user belongs to (one per user)


def partner_pk(partner_id: str) -> str:
    return _k("PARTNER", partner_id)


PROFILE_SK = "PROFILE"


def partner_owner_pk(sub: str) -> str:
    """gsi3 on the partner profile: the partner a user owns, so "the caller's partner" is one Query."""
    return _k("OWNER", sub)


def partners_by_status_pk(status: str) -> str:
    """gsi1: the admin applications queue for one status, oldest first."""
    return _k("PARTNERS", status)


PARTNERS_ALL_PK = "PARTNERS"  # gsi2: every partner, oldest first


def created_sk(created_at: str, entity_id: str) -> str:
    return _k(created_at, entity_id)


# --- audit --------------------------------------------------------------------------------------
def audit_pk(entity_id: str) -> str:
    return _k("AUDIT", entity_id)


AUDIT_ALL_PK = "AUDIT"  # gsi1: every audit record, newest first


def audit_sk(at: str, audit_id: str) -> str:
    return _k(at, audit_id)


# --- idempotency --------------------------------------------------------------------------------
def idempotency_pk(scope: str, caller: str, key: str) -> str:
    return _k("IDEMPOTENCY", scope, caller, key)


IDEMPOTENCY_SK = "RESPONSE"


# --- ledger (journal, partner balances, Stripe references) -----------------------------------------
def journal_pk(txn_id: str) -> str:
    """One journal transaction's header (all its lines); its existence makes the event journaled once."""
    return _k("JOURNAL", txn_id)


JOURNAL_SK = "TXN"
JOURNAL_ALL_PK = "JOURNAL"  # gsi1: every journal transaction, in time order


def account_pk(account: str) -> str:
    """The postings of one ledger account (`partner:<id>:<cur>`, `platform:cash:<cur>`, ...)."""
    return _k("ACCOUNT", account)


def posting_sk(at: str, txn_id: str) -> str:
    return _k(at, txn_id)


def ledger_order_pk(order_id: str) -> str:
    """What the ledger recorded for an order, part by part, and what refunds have reversed so far."""
    return _k("LEDGERORDER", order_id)


LEDGER_ORDER_SK = "STATE"


def balance_sk(currency: str) -> str:
    """Under `partner_pk`: the partner's running counters in one currency."""
    return _k("BALANCE", currency)


def balances_pk(currency: str) -> str:
    """gsi1: every partner balance row of one currency (payout runs, reports), by partner id."""
    return _k("BALANCES", currency)


def balance_day_sk(currency: str, day: str) -> str:
    """Under `partner_pk`: one day's counters (`YYYY-MM-DD`); the hold and period reports read these."""
    return _k("DAY", currency, day)


def stripe_ref_pk(stripe_id: str) -> str:
    """The ledger's side of one Stripe object (payment intent, refund, transfer), for reconciliation."""
    return _k("STRIPEREF", stripe_id)


STRIPE_REF_SK = "REF"
STRIPE_REFS_PK = "STRIPEREFS"  # gsi1: every Stripe reference by ledger time


# --- payouts and Connect accounts -----------------------------------------------------------------
def connect_account_pk(account_id: str) -> str:
    """Which partner a Stripe connected account belongs to (`account.updated` webhooks look it up)."""
    return _k("CONNECT", account_id)


CONNECT_ACCOUNT_SK = "PARTNER"


def sandbox_account_pk(account_id: str) -> str:
    """The local stage's Connect sandbox: one simulated connected account."""
    return _k("SANDBOX", "ACCOUNT", account_id)


def sandbox_transfer_pk(transfer_id: str) -> str:
    return _k("SANDBOX", "TRANSFER", transfer_id)


SANDBOX_SK = "STATE"
SANDBOX_TRANSFERS_PK = "SANDBOX#TRANSFERS"  # gsi1: simulated transfers by creation time (listing)


def sandbox_idempotency_pk(key: str) -> str:
    return _k("SANDBOX", "IDEMPOTENCY", key)


def payout_run_pk(run_id: str) -> str:
    return _k("PAYOUTRUN", run_id)


PAYOUT_RUN_SK = "RUN"
PAYOUT_RUNS_PK = "PAYOUTRUNS"  # gsi1: runs, newest first


def payout_run_day_pk(day: str, currency: str | None) -> str:
    """The daily run's guard: at most one scheduled run per day and currency."""
    return _k("PAYOUTRUNDAY", day, currency or "*")


def payout_pk(payout_id: str) -> str:
    return _k("PAYOUT", payout_id)


PAYOUT_SK = "PAYOUT"


def partner_payouts_pk(partner_id: str) -> str:
    """gsi1: one partner's payouts, newest first."""
    return _k("PARTNERPAYOUTS", partner_id)


def run_payouts_pk(run_id: str) -> str:
    """gsi2: the payouts and skips of one run."""
    return _k("RUNPAYOUTS", run_id)


# --- reconciliation -----------------------------------------------------------------------------
def reconciliation_pk(recon_id: str) -> str:
    return _k("RECON", recon_id)


RECONCILIATION_SK = "RUN"


def recon_discrepancy_sk(seq: int) -> str:
    return _k("DISC", f"{seq:09d}")


def recon_seen_sk(stripe_id: str) -> str:
    """A Stripe object met while listing the period (so the ledger pass can ask 'did Stripe have it?')."""
    return _k("SEEN", stripe_id)


# --- catalog (listings, revisions, slugs, catalog projection) -----------------------------------
def listing_pk(listing_id: str) -> str:
    return _k("LISTING", listing_id)


LISTING_SK = "LISTING"  # the listing row: the live version (or the draft before first publication)
REVISION_SK = "REVISION"  # the pending (or rejected) revision of a published listing


def slug_pk(slug: str) -> str:
    """The slug claim row, written with attribute_not_exists: slugs are unique by construction."""
    return _k("SLUG", slug)


SLUG_SK = "SLUG"


def partner_listings_pk(partner_id: str, status: str | None = None) -> str:
    """gsi2 (every listing of a partner) or gsi3 (one status of a partner's listings), oldest first."""
    return _k("PLISTINGS", partner_id) if status is None else _k("PLISTINGS", partner_id, status)


REVIEW_QUEUE_PK = "REVIEWQ"  # gsi1: submitted listings and pending revisions, oldest first

CATALOG_ANY = "*"


def catalog_filter_pk(category: str | None, listing_type: str | None, partner_id: str | None) -> str:
    """A catalog projection partition: one combination of the structured filters (`*` = any)."""
    return _k("CAT", category or CATALOG_ANY, listing_type or CATALOG_ANY, partner_id or CATALOG_ANY)


def catalog_term_pk(prefix: str) -> str:
    """A catalog projection partition for one search prefix (the first 1..3 characters of a word)."""
    return _k("CATQ", prefix)


def catalog_newest_sk(published_at: str, listing_id: str) -> str:
    """gsi1 sort key; read backwards for `newest`."""
    return _k(published_at, listing_id)


RATING_SCALE = 1_000_000  # average * 10^6 as an integer: exact ordering without floats


def catalog_rating_sk(rating_sum: int, rating_count: int, listing_id: str) -> str:
    """gsi2 sort key; read backwards for `top_rated`: average, then number of ratings, fixed width."""
    scaled = rating_sum * RATING_SCALE // rating_count if rating_count else 0
    return _k(f"{scaled:07d}", f"{rating_count:010d}", listing_id)


def catalog_price_sk(amount: int, listing_id: str) -> str:
    """gsi3 sort key; forwards for `price_asc`, backwards for `price_desc` (zero-padded minor units)."""
    return _k(f"{amount:012d}", listing_id)


# --- checkout: orders, refunds, entitlements, Stripe webhooks --------------------------------------
def order_pk(order_id: str) -> str:
    """An order's partition: the order row and its refund rows."""
    return _k("ORDER", order_id)


ORDER_SK = "ORDER"


def refund_sk(refund_id: str) -> str:
    return _k("REFUND", refund_id)


REFUND_PREFIX = "REFUND#"


def customer_orders_pk(sub: str) -> str:
    """gsi1: one customer's orders, newest first (sort key `created_sk`)."""
    return _k("CUSTORDERS", sub)


ORDERS_ALL_PK = "ORDERS"  # gsi2: every order, newest first (admin and finance)


def payment_intent_pk(payment_intent_id: str) -> str:
    """gsi3 on the order row: find the order of a PaymentIntent (charge and dispute webhooks)."""
    return _k("PI", payment_intent_id)


def entitlement_sk(listing_id: str) -> str:
    """Under `user_pk`: the customer owns this listing (one row per listing, so granted once)."""
    return _k("ENT", listing_id)


ENTITLEMENT_PREFIX = "ENT#"


def stripe_event_pk(event_id: str) -> str:
    """A processed Stripe event: written in the transaction of its effect, so it takes effect once."""
    return _k("STRIPEEVENT", event_id)


STRIPE_EVENT_SK = "EVENT"


def stripe_refund_pk(refund_id: str) -> str:
    """A Stripe refund recorded against an order: whichever path records it first (API or webhook) wins."""
    return _k("STRIPEREFUND", refund_id)


STRIPE_REFUND_SK = "REFUND"


def stripe_account_status_pk(account_id: str) -> str:
    """What the latest `account.updated` said about a connected account (payouts code may read it)."""
    return _k("STRIPEACCOUNT", account_id)


STRIPE_ACCOUNT_STATUS_SK = "STATUS"


# --- reviews (reviews, their handles, flags and the moderation queue) ---------------------------
def listing_reviews_pk(listing_id: str) -> str:
    """A listing's review rows (table pk), and its review lists on gsi1 (newest), gsi2 and gsi3."""
    return _k("REVIEWS", listing_id)


def review_by_sk(author_sub: str) -> str:
    """The review row's sort key: one per customer per listing by construction (attribute_not_exists)."""
    return _k("BY", author_sub)


def review_pk(review_id: str) -> str:
    """The review handle: finds a review by its id and carries its moderation state."""
    return _k("REVIEW", review_id)


REVIEW_HANDLE_SK = "REVIEW"


def review_flags_pk(review_id: str) -> str:
    return _k("REVIEWFLAGS", review_id)


def review_flag_sk(flagger_sub: str) -> str:
    """One flag per user per review by construction (attribute_not_exists)."""
    return _k("BY", flagger_sub)


FLAGGED_REVIEWS_PK = "FLAGGEDREVIEWS"  # gsi1 on review handles with unresolved flags, oldest flag first


def review_newest_sk(created_at: str, review_id: str) -> str:
    """gsi1 sort key; read backwards for `newest`."""
    return _k(created_at, review_id)


def review_highest_sk(stars: int, created_at: str, review_id: str) -> str:
    """gsi2 sort key; read backwards for `highest` (then newest first among equal ratings)."""
    return _k(stars, created_at, review_id)


def review_lowest_sk(stars: int, created_at: str, review_id: str) -> str:
    """gsi3 sort key; read backwards for `lowest` (6 - stars, so the newest still come first)."""
    return _k(6 - stars, created_at, review_id)


def flagged_review_sk(first_flagged_at: str, review_id: str) -> str:
    return _k(first_flagged_at, review_id)
