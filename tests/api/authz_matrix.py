"""The authorization matrix as data: every route x persona -> the status the contract expects.

Why data and not a test per route: one table is what a reviewer reads to answer "who may call what",
and `test_authorization_matrix.py` fails when `app.routes` and this table disagree, so a new route
cannot ship without someone deciding who may call it. Each case also says how to make the call
valid (path parameters, body, headers, a `prepare` step), so the status observed is the
authorization outcome and not a validation error.

The personas, and the world they act in (built by the test module, see `World`):
- anonymous: no token.
- customer: owns a paid order of the partner's published app, and wrote a review of it.
- other_customer: signed in, owns nothing.
- partner: approved, owns two published apps, a draft, a submission and a payout account.
- other_partner: approved, owns another published app.
- admin, finance: the two token roles.
- scoped_key: an API key of the partner holding exactly the scope the route declares (`key_scope`); on a
  route that declares none, a key holding every scope. It acts as the partner, on the world as it was.
- unscoped_key: an API key of the partner holding every scope but the route's one (every scope on a
  route that declares none). Keys are refused (403) everywhere but on the routes their scope covers, so
  `expect` gives both key personas 403 unless a row says otherwise.

Path parameters point at the partner's or the customer's own resources, so other_customer and
other_partner on them must answer 404 (existence is not leaked), a wrong role 403, anonymous 401.
Partner membership lives in storage, not in the token: a caller who is no partner asking for
"my partner's" resources gets 404 (there is no such partner for them), as `GET /partners/me` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

ANONYMOUS, CUSTOMER, OTHER_CUSTOMER = "anonymous", "customer", "other_customer"
PARTNER, OTHER_PARTNER, ADMIN, FINANCE = "partner", "other_partner", "admin", "finance"
SCOPED_KEY, UNSCOPED_KEY = "scoped_key", "unscoped_key"
KEY_PERSONAS = (SCOPED_KEY, UNSCOPED_KEY)
PERSONAS = (ANONYMOUS, CUSTOMER, OTHER_CUSTOMER, PARTNER, OTHER_PARTNER, ADMIN, FINANCE) + KEY_PERSONAS

CUSTOMER_SUB = "authz-customer"

# Who each persona is: token subject and groups (None: no token).
IDENTITIES: dict[str, tuple[str, list[str]] | None] = {
    ANONYMOUS: None,
    CUSTOMER: (CUSTOMER_SUB, []),
    OTHER_CUSTOMER: ("authz-customer-2", []),
    PARTNER: ("authz-vendor", []),
    OTHER_PARTNER: ("authz-vendor-2", []),
    ADMIN: ("authz-admin", ["admin"]),
    FINANCE: ("authz-finance", ["finance"]),
    SCOPED_KEY: None,  # not a token: `Bearer mpk_...` of the partner's key (see the test's `Builder.keys`)
    UNSCOPED_KEY: None,
}
APPLICANT = "authz-applicant"  # a pending partner application, for the admin decisions


@dataclass
class World:
    """Ids of the resources the cases point at; filled in by the test module's builder."""

    partner_id: str = ""
    other_partner_id: str = ""
    applicant_id: str = ""
    listing_id: str = ""  # the partner's published app; the customer bought it and reviewed it
    second_listing_id: str = ""  # the partner's second published app (bundles need two)
    other_listing_id: str = ""  # the other partner's published app
    draft_id: str = ""  # the partner's draft
    submitted_id: str = ""  # the partner's listing waiting for review
    order_id: str = ""  # the customer's paid order of `listing_id`
    review_id: str = ""  # the customer's review of `listing_id`, no reply yet
    account_id: str = ""  # the partner's Connect sandbox account
    onboarding_token: str = ""
    key_id: str = ""  # a key of the partner that no persona uses (revoked by its case)
    licence: str = ""  # the customer's licence for `listing_id`
    extra: dict[str, Any] = field(default_factory=dict)


Params = Callable[[World], dict[str, str]]
Body = Callable[[World, str], Any]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the template exactly as `app.routes` has it
    expect: dict[str, int]
    params: Params = lambda w: {}
    body: Body | None = None
    query: Callable[[World], str] = lambda w: ""
    idempotency_key: bool = False
    # a step before the calls, given the test's builder and the world; returns extra path parameters
    prepare: Callable[[Any, World], dict[str, str]] | None = None
    variant: str = ""  # names a second case of the same route (the webhook's signed and unsigned calls)
    raw: Callable[[World, str], tuple[bytes, dict[str, str]]] | None = None  # raw body and headers
    note: str = ""

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")


def expect(default: int, *, anonymous: int = 401, keys: int = 403, **overrides: int) -> dict[str, int]:
    """Every signed-in persona gets `default` unless overridden; anonymous gets 401 and API keys 403 unless
    overridden (a route that admits keys says so: `scoped_key=<status>`)."""
    unknown = set(overrides) - set(PERSONAS)
    assert not unknown, f"no such persona: {unknown}"
    fallback = {ANONYMOUS: anonymous, SCOPED_KEY: keys, UNSCOPED_KEY: keys}
    return {p: overrides.get(p, fallback.get(p, default)) for p in PERSONAS}


def everyone(status: int) -> dict[str, int]:
    return expect(status, anonymous=status, keys=status)


def role(ok: int, *allowed: str) -> dict[str, int]:
    """A token-role route: the allowed roles get `ok`, every other signed-in persona 403."""
    return expect(403, **{p: ok for p in allowed})


def partner_own(ok: int, *, other_partner: int = 404, **overrides: int) -> dict[str, int]:
    """A route on the caller's own partner: non-partners have none (404)."""
    return expect(404, partner=ok, other_partner=other_partner, **overrides)


def customer_own(ok: int, **overrides: int) -> dict[str, int]:
    """A route on the customer's own resource: everybody else gets 404."""
    return expect(404, customer=ok, **overrides)


def _n(persona: str) -> str:
    return persona.replace("_", " ")


def _listing(w: World) -> dict[str, str]:
    return {"listing_id": w.listing_id}


def _review(w: World) -> dict[str, str]:
    return {"review_id": w.review_id}


def _order(w: World) -> dict[str, str]:
    return {"order_id": w.order_id}


def _app_body(w: World, persona: str) -> dict:
    return {"type": "app", "name": f"Authz {_n(persona)} app", "summary": "Made by the matrix",
            "category": "analytics", "price": {"amount": 700, "currency": "usd"}}


REASON = {"reason": "The authorization matrix says so."}


def _admin_post(builder: Any, path: str) -> dict[str, str]:
    """A prepare step: an admin decision (e.g. a suspension) the case then acts on; no extra parameters."""
    builder.ok(builder.api.post(path, REASON, sub=IDENTITIES[ADMIN][0], groups=["admin"]))  # type: ignore[index]
    return {}
def _webhook_endpoint(builder: Any) -> dict[str, str]:
    """A prepare step: a webhook endpoint of the partner, for the cases on one endpoint."""
    body = {"url": "http://127.0.0.1:9/matrix", "events": ["*"]}
    created = builder.ok(builder.api.post("/partner/webhook-endpoints", body, sub=IDENTITIES[PARTNER][0]), 201)  # type: ignore[index]
    return {"endpoint_id": created["endpoint_id"]}


def _subscription(builder: Any, w: World) -> dict[str, str]:
    """A prepare step: the customer's paid monthly subscription to a new app of the partner."""
    from tests.subscription_kit import pay_first_invoice, publish_subscription_app, subscribe

    listing = publish_subscription_app(builder.api, IDENTITIES[PARTNER][0], price=800)  # type: ignore[index]
    sub = builder.ok(subscribe(builder.api, CUSTOMER_SUB, listing["listing_id"]), 201)
    pay_first_invoice(builder.api, builder.gateway, sub)
    invoices = builder.ok(builder.api.get(f"/subscriptions/{sub['subscription_id']}", sub=CUSTOMER_SUB))["invoices"]
    w.extra.update(sub_listing_id=listing["listing_id"], sub_invoice_id=invoices[0]["invoice_id"])
    return {"subscription_id": sub["subscription_id"]}


REVIEW = {"rating": 4, "title": "Solid", "body": "Does what it says."}
PERIOD = "?from=2026-01-01&to=2026-12-31"


# --- the matrix --------------------------------------------------------------------------------------
CASES: tuple[Case, ...] = (
    # operations and the public catalog
    Case("GET", "/health", everyone(200)),
    Case("GET", "/openapi.json", everyone(200)),
    Case("GET", "/docs", everyone(200)),
    Case("GET", "/docs/redoc.standalone.js", everyone(200)),
    Case("GET", "/categories", everyone(200)),
    Case("GET", "/listings", everyone(200)),
    Case("GET", "/listings/{listing_id}", everyone(200), params=_listing),
    Case("GET", "/listings/{listing_id}", everyone(404), variant="the partner's draft",
         params=lambda w: {"listing_id": w.draft_id}, note="the public catalog shows published listings only"),
    Case("GET", "/listings/{listing_id}/reviews", everyone(200), params=_listing),
    Case("GET", "/listings/{listing_id}/reviews", everyone(404), variant="the partner's draft",
         params=lambda w: {"listing_id": w.draft_id}),
    Case("GET", "/connect-sandbox/onboard/{account_id}", everyone(200),
         params=lambda w: {"account_id": w.account_id}, query=lambda w: f"?token={w.onboarding_token}",
         note="local stage only; the signed token in the link is the credential"),

    # partners
    Case("POST", "/partners", expect(201, partner=409, other_partner=409),
         body=lambda w, p: {"display_name": f"Authz {_n(p)}", "contact_email": "x@example.com", "country": "DE"},
         note="any signed-in user may apply once; partners already have one (409 conflict)"),
    Case("GET", "/partners/me", partner_own(200, other_partner=200)),
    Case("PATCH", "/partners/me", partner_own(200, other_partner=200),
         body=lambda w, p: {"display_name": f"Renamed {_n(p)}"}),
    Case("POST", "/partners/me/payout-account", partner_own(200, other_partner=201), body=lambda w, p: {},
         note="the partner's account exists (200, a fresh link); the other partner's is created (201)"),
    Case("GET", "/admin/partners", role(200, ADMIN)),
    Case("GET", "/admin/partners/{partner_id}", role(200, ADMIN), params=lambda w: {"partner_id": w.partner_id}),
    Case("POST", "/admin/partners/{partner_id}/approve", role(200, ADMIN),
         params=lambda w: {"partner_id": w.applicant_id}, body=lambda w, p: {}),
    Case("POST", "/admin/partners/{partner_id}/reject", role(200, ADMIN),
         params=lambda w: {"partner_id": w.applicant_id}, body=lambda w, p: REASON),
    Case("POST", "/admin/partners/{partner_id}/suspend", role(200, ADMIN),
         params=lambda w: {"partner_id": w.partner_id}, body=lambda w, p: REASON),
    Case("POST", "/admin/partners/{partner_id}/reinstate", role(200, ADMIN),
         params=lambda w: {"partner_id": w.other_partner_id}, body=lambda w, p: REASON,
         prepare=lambda b, w: _admin_post(b, f"/admin/partners/{w.other_partner_id}/suspend"),
         note="the other partner is suspended first"),
    Case("PUT", "/admin/partners/{partner_id}/commission", role(200, ADMIN, FINANCE),
         params=lambda w: {"partner_id": w.partner_id},
         body=lambda w, p: {"bps": 1500, "effective_from": "2030-01-01"}),
    Case("GET", "/admin/audit", role(200, ADMIN, FINANCE)),

    # a partner's listings
    Case("POST", "/partner/listings", partner_own(201, other_partner=201, scoped_key=201), body=_app_body),
    Case("POST", "/partner/listings", partner_own(201, other_partner=400, scoped_key=201),
         variant="bundle of the partner's app",
         body=lambda w, p: {**_app_body(w, p), "type": "bundle", "components": [w.listing_id, w.second_listing_id]}),
    Case("GET", "/partner/listings", partner_own(200, other_partner=200, scoped_key=200)),
    Case("GET", "/partner/listings/{listing_id}", partner_own(200, scoped_key=200), params=_listing),
    Case("PATCH", "/partner/listings/{listing_id}", partner_own(200, scoped_key=200), params=_listing,
         body=lambda w, p: {"summary": f"Revised by {_n(p)}"}, note="proposes a revision of the published app"),
    Case("POST", "/partner/listings/{listing_id}/submit", partner_own(200, scoped_key=200),
         params=lambda w: {"listing_id": w.draft_id}, body=lambda w, p: {}),
    Case("POST", "/partner/listings/{listing_id}/withdraw", partner_own(200, scoped_key=200),
         params=lambda w: {"listing_id": w.submitted_id}, body=lambda w, p: {}),
    Case("POST", "/partner/listings/{listing_id}/unlist", partner_own(200, scoped_key=200), params=_listing,
         body=lambda w, p: {}),

    # catalog administration
    Case("GET", "/admin/review-queue", role(200, ADMIN)),
    Case("GET", "/admin/listings/{listing_id}", role(200, ADMIN), params=_listing),
    Case("POST", "/admin/listings/{listing_id}/approve", role(200, ADMIN),
         params=lambda w: {"listing_id": w.submitted_id}, body=lambda w, p: {}),
    Case("POST", "/admin/listings/{listing_id}/reject", role(200, ADMIN),
         params=lambda w: {"listing_id": w.submitted_id}, body=lambda w, p: REASON),
    Case("POST", "/admin/listings/{listing_id}/suspend", role(200, ADMIN), params=_listing,
         body=lambda w, p: REASON),
    Case("POST", "/admin/listings/{listing_id}/relist", role(200, ADMIN), params=_listing,
         body=lambda w, p: REASON, prepare=lambda b, w: _admin_post(b, f"/admin/listings/{w.listing_id}/suspend"),
         note="the partner's published app is suspended first"),
    Case("POST", "/admin/bundles", role(201, ADMIN),
         body=lambda w, p: {"name": "Authz Suite", "summary": "Two vendors", "category": "analytics",
                            "price": {"amount": 1200, "currency": "usd"},
                            "components": [w.listing_id, w.other_listing_id]}),

    # reviews
    Case("POST", "/listings/{listing_id}/reviews", expect(403, customer=409), params=_listing,
         body=lambda w, p: REVIEW,
         note="only owners may review (403 forbidden, as the contract says); the owner already did (409)"),
    Case("GET", "/listings/{listing_id}/reviews/mine", customer_own(200), params=_listing),
    Case("PUT", "/listings/{listing_id}/reviews/mine", customer_own(200), params=_listing,
         body=lambda w, p: REVIEW),
    Case("DELETE", "/listings/{listing_id}/reviews/mine", customer_own(200), params=_listing),
    Case("POST", "/partner/reviews/{review_id}/reply", partner_own(201), params=_review,
         body=lambda w, p: {"body": f"Thanks, from {_n(p)}"}),
    Case("PUT", "/partner/reviews/{review_id}/reply", partner_own(200), params=_review,
         body=lambda w, p: {"body": f"Edited by {_n(p)}"},
         prepare=lambda b, w: b.reply(w) or {}),
    Case("POST", "/reviews/{review_id}/flag", expect(201, customer=403), params=_review,
         body=lambda w, p: REASON, note="any signed-in user, once each; the author may not flag their own (403)"),
    Case("GET", "/admin/flagged-reviews", role(200, ADMIN)),
    Case("POST", "/admin/reviews/{review_id}/hide", role(200, ADMIN), params=_review, body=lambda w, p: REASON),
    Case("POST", "/admin/reviews/{review_id}/restore", role(200, ADMIN), params=_review, body=lambda w, p: {},
         prepare=lambda b, w: b.hide(w) or {}),

    # orders, entitlements, refunds
    Case("POST", "/orders", expect(201, customer=409), idempotency_key=True,
         body=lambda w, p: {"items": [{"listing_id": w.listing_id}]},
         note="any signed-in user may buy; the customer already owns the app (409 already_owned)"),
    Case("GET", "/orders", expect(200)),
    Case("GET", "/orders", customer_own(200, admin=200, finance=200), variant="one customer's orders",
         query=lambda w: f"?customer={CUSTOMER_SUB}",
         note="staff may list any customer's orders; anyone else naming another customer gets 404"),
    Case("GET", "/orders/{order_id}", customer_own(200, admin=200, finance=200), params=_order),
    Case("POST", "/orders/{order_id}/cancel", customer_own(200), params=lambda w: {},
         prepare=lambda b, w: {"order_id": b.pending_order(w)},
         note="owner only: staff can read any order but cannot cancel a customer's (404 like any non-owner)"),
    Case("POST", "/admin/orders/{order_id}/refunds", role(201, ADMIN, FINANCE), params=_order,
         idempotency_key=True, body=lambda w, p: {"reason": f"refund by {_n(p)}", "amount": 100}),
    Case("GET", "/me/entitlements", expect(200)),
    Case("GET", "/me/entitlements/{listing_id}", customer_own(200), params=_listing),

    # subscriptions
    Case("POST", "/subscriptions", expect(201, customer=409), idempotency_key=True, prepare=_subscription,
         body=lambda w, p: {"listing_id": w.extra["sub_listing_id"]},
         note="any signed-in user may subscribe; the customer already does (409 already_owned)"),
    Case("GET", "/subscriptions", expect(200)),
    Case("GET", "/subscriptions/{subscription_id}", customer_own(200, admin=200, finance=200), prepare=_subscription),
    Case("POST", "/subscriptions/{subscription_id}/cancel", customer_own(200), prepare=_subscription,
         note="owner only: staff can read any subscription but cannot cancel a customer's (404 like any non-owner)"),
    Case("POST", "/admin/subscriptions/{subscription_id}/refunds", role(201, ADMIN, FINANCE), prepare=_subscription,
         idempotency_key=True, body=lambda w, p: {"invoice_id": w.extra["sub_invoice_id"], "amount": 100,
                                                   "reason": f"refund by {_n(p)}"}),

    # the Stripe webhook: authenticated by its signature, a token means nothing to it
    Case("POST", "/webhooks/stripe", everyone(400), variant="unsigned",
         raw=lambda w, p: (b'{"id": "evt_authz", "type": "payment_intent.succeeded", "data": {"object": {}}}', {})),
    Case("POST", "/webhooks/stripe", everyone(200), variant="signed", raw=lambda w, p: w.extra["signed_event"](p),
         note="a correctly signed event (of a type we ignore) is accepted whoever else is calling"),

    # money: balances, statements, payouts, the journal, reconciliation, reports
    Case("GET", "/partner/balance", partner_own(200, other_partner=200, scoped_key=200)),
    Case("GET", "/partner/statement", partner_own(200, other_partner=200, scoped_key=200), query=lambda w: PERIOD),
    Case("GET", "/partner/payouts", partner_own(200, other_partner=200, scoped_key=200)),
    Case("GET", "/finance/ledger", role(200, FINANCE)),
    Case("POST", "/finance/adjustments", role(201, FINANCE), idempotency_key=True,
         body=lambda w, p: {"partner_id": w.partner_id, "amount": {"amount": 100, "currency": "usd"}, **REASON}),
    Case("POST", "/finance/payout-runs", role(202, FINANCE), body=lambda w, p: {"currency": "usd"}),
    Case("GET", "/finance/payout-runs", role(200, FINANCE)),
    Case("GET", "/finance/payout-runs/{run_id}", role(200, FINANCE), prepare=lambda b, w: {"run_id": b.run(w)}),
    Case("GET", "/finance/reconciliations", role(200, FINANCE)),
    Case("POST", "/finance/reconciliations", role(202, FINANCE),
         body=lambda w, p: {"from": "2026-01-01", "to": "2026-01-31"}),
    Case("GET", "/finance/reconciliations/{reconciliation_id}", role(200, FINANCE),
         prepare=lambda b, w: {"reconciliation_id": b.reconciliation(w)}),
    Case("GET", "/finance/reports/partners", role(200, FINANCE), query=lambda w: PERIOD),

    # partner pathways: API keys (a person's token only) and licences
    Case("POST", "/partner/api-keys", partner_own(201, other_partner=201),
         body=lambda w, p: {"name": f"Matrix {_n(p)}", "scopes": ["listings:read"]},
         note="keys never manage keys, whatever their scopes"),
    Case("GET", "/partner/api-keys", partner_own(200, other_partner=200)),
    Case("DELETE", "/partner/api-keys/{key_id}", partner_own(200), params=lambda w: {"key_id": w.key_id}),
    Case("GET", "/me/entitlements/{listing_id}/licence", customer_own(200), params=_listing),
    Case("GET", "/.well-known/jwks.json", everyone(200)),
    Case("POST", "/partner/licences/verify", partner_own(200, other_partner=200, scoped_key=200),
         body=lambda w, p: {"licence": w.licence},
         note="the other partner gets 200 with active false: the licence is not addressed to it"),
    Case("GET", "/partner/licences", partner_own(200, scoped_key=200), query=lambda w: f"?listing_id={w.listing_id}"),

    # partner pathways: the event feed (events:read) and webhooks (webhooks:manage), on the caller's partner
    Case("GET", "/partner/events", partner_own(200, other_partner=200, scoped_key=200)),
    Case("POST", "/partner/webhook-endpoints", partner_own(201, other_partner=201, scoped_key=201),
         body=lambda w, p: {"url": "http://127.0.0.1:9/matrix", "events": ["sale.completed"]},
         note="the local stage accepts http://127.0.0.1:<port>; registering makes no request"),
    Case("GET", "/partner/webhook-endpoints", partner_own(200, other_partner=200, scoped_key=200)),
    Case("DELETE", "/partner/webhook-endpoints/{endpoint_id}", partner_own(200, scoped_key=200),
         prepare=lambda b, w: _webhook_endpoint(b)),
    Case("GET", "/partner/webhook-endpoints/{endpoint_id}/deliveries", partner_own(200, scoped_key=200),
         prepare=lambda b, w: _webhook_endpoint(b)),
    Case("POST", "/partner/webhook-endpoints/{endpoint_id}/replay", partner_own(202, scoped_key=202),
         prepare=lambda b, w: _webhook_endpoint(b), body=lambda w, p: {}),
)


def as_markdown() -> str:
    """The matrix as a table, for reading: `python -m tests.api.authz_matrix`."""
    head = "| route | " + " | ".join(p.replace("_", " ") for p in PERSONAS) + " |"
    rows = [head, "|---" * (len(PERSONAS) + 1) + "|"]
    rows += [f"| {c.id} | " + " | ".join(str(c.expect[p]) for p in PERSONAS) + " |" for c in CASES]
    return "\n".join(rows)


if __name__ == "__main__":
    print(as_markdown())
