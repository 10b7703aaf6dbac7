"""The contract's fixed words and limits, shared by the domain models and the JSON Schemas.

Listing types, statuses, categories and sorts, order statuses, review statuses and the size limits the
contract states live here once, so the schemas (which import no aggregate) and each aggregate's pure
model agree by construction. The models re-export what they use.
"""
from __future__ import annotations

# --- catalog ---------------------------------------------------------------------------------------
APP, BUNDLE = "app", "bundle"
TYPES = (APP, BUNDLE)

DRAFT, SUBMITTED, PUBLISHED, REJECTED, SUSPENDED, UNLISTED = (
    "draft", "submitted", "published", "rejected", "suspended", "unlisted",
)
STATUSES = (DRAFT, SUBMITTED, PUBLISHED, REJECTED, SUSPENDED, UNLISTED)

# A revision of a published listing waits for review (`pending`) or was turned down (`rejected`).
REVISION_PENDING, REVISION_REJECTED = "pending", "rejected"

SORTS = ("newest", "top_rated", "price_asc", "price_desc")

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("analytics", "Analytics"),
    ("communication", "Communication"),
    ("customer-support", "Customer support"),
    ("design", "Design"),
    ("developer-tools", "Developer tools"),
    ("finance", "Finance and accounting"),
    ("hr", "HR and recruiting"),
    ("marketing", "Marketing"),
    ("productivity", "Productivity"),
    ("project-management", "Project management"),
    ("sales", "Sales and CRM"),
    ("security", "Security and compliance"),
)
CATEGORY_IDS = tuple(c for c, _ in CATEGORIES)

MAX_COMPONENTS = 10
MIN_COMPONENTS = 2
# Subscription prices (a listing's `price.interval`; absent: a one-time price) and their free trial.
MONTH, YEAR = "month", "year"
PRICE_INTERVALS = (MONTH, YEAR)
MAX_TRIAL_DAYS = 30

REVIEWED_FIELDS = ("name", "slug", "summary", "description", "category", "tags", "price", "components", "split")


# --- orders ----------------------------------------------------------------------------------------
PENDING_PAYMENT = "pending_payment"
PAID = "paid"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
FAILED = "failed"
CANCELED = "canceled"
DISPUTED = "disputed"

ORDER_STATUSES = (PENDING_PAYMENT, PAID, PARTIALLY_REFUNDED, REFUNDED, FAILED, CANCELED, DISPUTED)

MAX_ORDER_LINES = 20


# --- reviews ---------------------------------------------------------------------------------------
VISIBLE, HIDDEN = "visible", "hidden"
REVIEW_STATUSES = (VISIBLE, HIDDEN)

NEWEST, HIGHEST, LOWEST = "newest", "highest", "lowest"
REVIEW_SORTS = (NEWEST, HIGHEST, LOWEST)

MIN_STARS, MAX_STARS = 1, 5
TITLE_MAX, BODY_MAX, REPLY_MAX = 120, 5000, 5000


# --- partner API keys --------------------------------------------------------------------------------
# What a key may do (PRODUCT.md "Partner pathways"); a route names the one scope it needs (`key_scope`).
SCOPE_LISTINGS_READ, SCOPE_LISTINGS_WRITE = "listings:read", "listings:write"
SCOPE_SALES_READ, SCOPE_EVENTS_READ = "sales:read", "events:read"
SCOPE_WEBHOOKS_MANAGE, SCOPE_LICENCES_READ = "webhooks:manage", "licences:read"
API_KEY_SCOPES = (SCOPE_LISTINGS_READ, SCOPE_LISTINGS_WRITE, SCOPE_SALES_READ, SCOPE_EVENTS_READ,
                  SCOPE_WEBHOOKS_MANAGE, SCOPE_LICENCES_READ)


# --- partner events (PRODUCT.md "Partner pathways": the feed and webhooks carry these types) ---------
PARTNER_EVENT_TYPES = (
    "listing.approved", "listing.rejected", "listing.suspended", "sale.completed", "refund.completed",
    "review.created", "review.updated", "payout.paid", "payout.failed", "subscription.started",
    "subscription.canceled",
)


# --- subscriptions ---------------------------------------------------------------------------------
INCOMPLETE, TRIALING, ACTIVE, PAST_DUE, SUB_CANCELED = "incomplete", "trialing", "active", "past_due", "canceled"
SUBSCRIPTION_STATUSES = (INCOMPLETE, TRIALING, ACTIVE, PAST_DUE, SUB_CANCELED)
