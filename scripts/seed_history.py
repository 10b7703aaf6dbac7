"""A demo that has lived: sales, refunds, reviews with replies, a paid payout and a reconciliation.

`make run` seeds partners and a catalog (scripts/seed_local.py, scripts/seed_catalog.py); without a history
every finance view, balance and statement would be empty on the first request. This module gives the demo
one, through the API itself (the app in-process on chalice's test client, against the same moto_server and
localstripe that `chalice local` serves afterwards), so the data obeys every rule real traffic does:

- customers `carol`, `dave`, `erin` and `frank` place orders (apps, a partner's bundle, the marketplace's
  cross-partner bundle; all in usd, so each demo partner's statement has one currency) (`POST /orders`), pay each PaymentIntent in
  localstripe as Stripe.js would (update with `pm_card_visa`, confirm), and Stripe's signed
  `payment_intent.succeeded` reaches `POST /webhooks/stripe` (the API is not listening yet, so the seed
  posts the event itself, signed with the local webhook secret);
- an admin refunds one order in full and one in part (`POST /admin/orders/{id}/refunds`, through localstripe);
- customers review what they bought and the partners reply to some reviews;
- two partners finish Connect sandbox onboarding; finance starts a payout run and a reconciliation (queued
  jobs: `make run`'s job poller runs them, and the seed runs due jobs too, so it also works alone) and the
  seed waits for both to complete; two more orders come after the run, so balances are not all paid out;
- recurring revenue: Initech sells a monthly app and `dave` subscribes; its first invoice is paid in
  localstripe and recorded as a sale (`seed_recurring`), so the partners report shows `mrr`.

Idempotent: every order and refund carries a stable `Idempotency-Key`, reviews and replies are written only
when missing, and the payout run and reconciliation are started only when none has completed yet, so a
second run leaves the same data.
"""
from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

FINANCE = ("seed-finance", ["finance"])
ADMIN = ("seed-admin", ["admin"])
WAIT_SECONDS = 90

# key, customer, catalog slugs bought together (one order)
ORDERS = [
    ("o1", "carol", ["pulse-dashboards"]),
    ("o2", "carol", ["meeting-notes", "helpdesk-inbox"]),
    ("o3", "dave", ["forge-devops-pack"]),
    ("o4", "dave", ["startup-essentials"]),
    ("o5", "erin", ["cohort-lens"]),
    ("o6", "erin", ["sales-radar", "ci-insights"]),
    ("o7", "frank", ["status-pages", "release-notes"]),
]
# sold after the payout run, so the partners' balances show new earnings beside what was paid out
ORDERS_AFTER_PAYOUT = [
    ("o8", "frank", ["funnel-forge"]),
    ("o9", "carol", ["hiring-pipeline", "secret-scanner"]),
]
# order key, body of the refund (a full refund has no amount)
REFUNDS = [
    ("o5", {"reason": "Bought the wrong plan; refunded in full"}),
    ("o6", {"reason": "Goodwill credit for a sync outage", "amount": 1000}),
]
# customer, slug, rating, title, body, the partner's reply (None: not answered yet)
REVIEWS = [
    ("carol", "pulse-dashboards", 5, "Our Monday meeting runs on it", "Set up in ten minutes, every KPI in one place.",
     "Thank you, Carol! Scheduled e-mail snapshots ship next month."),
    ("carol", "meeting-notes", 4, "Good notes, slow export", "The summaries are spot on; PDF export takes a while.",
     None),
    ("dave", "ci-insights", 4, "Found our flaky tests", "Flagged three flaky suites on day one.",
     "Glad it helped. Tip: the weekly digest groups failures by owner."),
    ("erin", "sales-radar", 3, "Decent forecasts", "Forecasts are close but the CRM import needed manual fixes.",
     "Sorry about the import: a fix for custom CRM fields is live, please try again."),
    ("frank", "funnel-forge", 5, "Found our leaky step", "The drop-off report paid for itself in a week.", None),
]
# a monthly app Initech launches, and its first subscriber
RECURRING_OWNER, RECURRING_CUSTOMER = "initech-owner", "dave"
RECURRING_APP = {"type": "app", "slug": "uptime-guard", "name": "Uptime Guard", "category": "developer-tools",
                 "tags": ["monitoring", "uptime"], "summary": "Uptime checks every minute, billed monthly.",
                 "description": "Checks your endpoints every minute from five regions.",
                 "price": {"amount": 1500, "currency": "usd", "interval": "month"}}
ONBOARDED = ("acme-owner", "globex-owner")  # initech-owner has no payout account: the run skips it


@dataclass
class Seeder:
    client: Any
    listings: dict[str, str]
    summary: dict[str, Any] = field(default_factory=dict)

    # --- plumbing ------------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, *, who: tuple[str, list[str]] | str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None, ok: tuple[int, ...] = (200, 201, 202)
             ) -> tuple[int, Any]:
        from chalicelib.config import load_settings
        from chalicelib.http.auth import issue_local_token

        sent = {"Content-Type": "application/json", **(headers or {})}
        if who is not None:
            sub, groups = (who, []) if isinstance(who, str) else who
            sent["Authorization"] = "Bearer " + issue_local_token(
                sub=sub, groups=groups, email=f"{sub}@example.com", ttl_seconds=600, settings=load_settings())
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=payload)
        data = json.loads(response.body) if response.body and response.headers.get(
            "Content-Type", "").startswith("application/json") else response.body
        if ok and response.status_code not in ok:
            raise RuntimeError(f"seed: {method} {path} answered {response.status_code}: {str(data)[:300]}")
        return response.status_code, data

    @staticmethod
    def stripe(path: str, params: dict[str, str] | None = None) -> dict:
        """A form-encoded POST to localstripe, as Stripe.js does from the customer's browser."""
        request = urllib.request.Request(
            os.environ["STRIPE_API_BASE"].rstrip("/") + path, method="POST",
            data=urllib.parse.urlencode(params or {}).encode(),
            headers={"Authorization": f"Bearer {os.environ['STRIPE_SECRET_KEY']}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def deliver(self, event_type: str, obj: dict, event_id: str) -> None:
        """Stripe's signed webhook delivery of one event."""
        from chalicelib.webhooks.signature import sign

        event = {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
                 "api_version": "2024-06-20", "livemode": False, "data": {"object": obj}}
        raw = json.dumps(event).encode()
        header = sign(raw, os.environ["STRIPE_WEBHOOK_SECRET"], int(time.time()))
        self.call("POST", "/webhooks/stripe", headers={"Stripe-Signature": header}, raw=raw)

    def run_jobs_until(self, done, what: str) -> Any:
        """Run due jobs (beside `make run`'s poller) until `done()` answers something; that answer."""
        from scripts.job_poller import drain

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            result = done()
            if result is not None:
                return result
            drain(max_batches=20)
            time.sleep(0.3)
        raise RuntimeError(f"seed: {what} did not complete within {WAIT_SECONDS} s")

    # --- the story ----------------------------------------------------------------------------------
    def sales(self, story: list[tuple[str, str, list[str]]]) -> dict[str, dict]:
        """Place and pay these demo orders (an order already paid is found by its key and left alone)."""
        orders = {}
        for key, customer, slugs in story:
            items = [{"listing_id": self.listings[slug]} for slug in slugs]
            _, placed = self.call("POST", "/orders", {"items": items}, who=customer,
                                  headers={"Idempotency-Key": f"seed-{key}"})
            # a repeated key answers the order as it was placed: read what it is now
            _, order = self.call("GET", f"/orders/{placed['order_id']}", who=customer)
            if order["status"] == "pending_payment":
                pi = order["payment"]["payment_intent_id"]
                self.stripe(f"/v1/payment_intents/{pi}", {"payment_method": "pm_card_visa"})
                self.stripe(f"/v1/payment_intents/{pi}/confirm")
                self.deliver("payment_intent.succeeded", {"id": pi, "object": "payment_intent"}, f"evt_seed_{key}")
                _, order = self.call("GET", f"/orders/{order['order_id']}", who=customer)
            if order["status"] not in ("paid", "partially_refunded", "refunded"):
                raise RuntimeError(f"seed: order {key} is {order['status']}, not paid")
            orders[key] = order
        self.summary["orders"] = self.summary.get("orders", 0) + len(orders)
        return orders

    def refunds(self, orders: dict[str, dict]) -> None:
        for key, body in REFUNDS:
            self.call("POST", f"/admin/orders/{orders[key]['order_id']}/refunds", body, who=ADMIN,
                      headers={"Idempotency-Key": f"seed-refund-{key}"})
        self.summary["refunds"] = len(REFUNDS)

    def reviews(self) -> None:
        replies = 0
        for customer, slug, rating, title, body, reply in REVIEWS:
            listing_id = self.listings[slug]
            status, review = self.call("GET", f"/listings/{listing_id}/reviews/mine", who=customer, ok=(200, 404))
            if status == 404:
                _, review = self.call("POST", f"/listings/{listing_id}/reviews",
                                      {"rating": rating, "title": title, "body": body}, who=customer)
            if reply and not review.get("reply"):
                owner = self._owner_of(listing_id)
                self.call("POST", f"/partner/reviews/{review['review_id']}/reply", {"body": reply}, who=owner)
            replies += bool(reply)
        self.summary["reviews"] = f"{len(REVIEWS)} ({replies} with the partner's reply)"

    def _owner_of(self, listing_id: str) -> str:
        from chalicelib.partners.repository import find_partner

        _, listing = self.call("GET", f"/listings/{listing_id}")
        partner = find_partner(listing["partner_id"])
        if partner is None:
            raise RuntimeError(f"seed: listing {listing_id} has no partner")
        return partner.owner_sub

    def payouts(self) -> None:
        """Onboard two partners in the Connect sandbox, then one payout run pays what is available."""
        for owner in ONBOARDED:
            _, account = self.call("POST", "/partners/me/payout-account", {}, who=owner)
            link = urllib.parse.urlsplit(account["onboarding_url"])
            self.call("GET", f"{link.path}?{link.query}")
        _, page = self.call("GET", "/partner/payouts?limit=5", who=ONBOARDED[0])
        if any(p["status"] == "paid" for p in page["items"]):
            self.summary["payout run"] = "already paid"
            return
        _, run = self.call("POST", "/finance/payout-runs", {}, who=FINANCE)
        run_id = run["payout_run_id"]

        def finished():
            _, now = self.call("GET", f"/finance/payout-runs/{run_id}", who=FINANCE)
            return now if now["status"] not in ("queued", "running") else None

        result = self.run_jobs_until(finished, f"payout run {run_id}")
        paid = [p for p in result["payouts"] if p["status"] == "paid"]
        if not paid:
            raise RuntimeError(f"seed: payout run {run_id} paid nobody: {str(result)[:400]}")
        self.summary["payout run"] = f"{result['status']}, {len(paid)} paid, {len(result['skipped'])} skipped"

    def reconciliation(self) -> None:
        _, page = self.call("GET", "/finance/reconciliations?limit=20", who=FINANCE)
        if any(r["status"] == "completed" for r in page["items"]):
            self.summary["reconciliation"] = "already completed"
            return
        today = time.strftime("%Y-%m-%d", time.gmtime())
        _, started = self.call("POST", "/finance/reconciliations", {"from": today, "to": today}, who=FINANCE)
        recon_id = started["reconciliation_id"]

        def finished():
            _, now = self.call("GET", f"/finance/reconciliations/{recon_id}", who=FINANCE)
            return now if now["status"] == "completed" else None

        result = self.run_jobs_until(finished, f"reconciliation {recon_id}")
        self.summary["reconciliation"] = f"matched={result['matched']}, counts={result.get('counts')}"

    def seed_recurring(self) -> None:
        """Recurring revenue: Initech launches a monthly app and `dave` subscribes (a paid Stripe invoice).

        localstripe charges the customer's saved card when the subscription is created (it has no
        `default_incomplete`), so dave first saves a card on his one Stripe Customer, as Stripe.js would with
        a SetupIntent; the first invoice is then paid at once and recorded as a sale, and finance's partners
        report shows Initech's `mrr`. Renewals need Stripe's clock: localstripe does not renew by itself.
        """
        listing_id = self._published(RECURRING_OWNER, RECURRING_APP)
        _, mine = self.call("GET", "/subscriptions", who=RECURRING_CUSTOMER)
        if not any(s["status"] == "active" for s in mine["items"]):
            self._save_card(RECURRING_CUSTOMER)
            self.call("POST", "/subscriptions", {"listing_id": listing_id}, who=RECURRING_CUSTOMER,
                      headers={"Idempotency-Key": "seed-subscription-1"})
        _, mine = self.call("GET", "/subscriptions", who=RECURRING_CUSTOMER)
        active = [s for s in mine["items"] if s["status"] == "active"]
        if not active:
            raise RuntimeError(f"seed: {RECURRING_CUSTOMER}'s subscription is not active: {str(mine)[:300]}")
        self.summary["recurring"] = f"{len(active)} active subscription"

    def _published(self, owner: str, body: dict) -> str:
        """A partner's listing, created, submitted and approved through the API unless its slug is live."""
        status, live = self.call("GET", f"/listings/{body['slug']}", ok=(200, 404))
        if status == 200:
            return live["listing_id"]
        _, draft = self.call("POST", "/partner/listings", body, who=owner)
        self.call("POST", f"/partner/listings/{draft['listing_id']}/submit", {}, who=owner)
        self.call("POST", f"/admin/listings/{draft['listing_id']}/approve", {}, who=ADMIN)
        return draft["listing_id"]

    def _save_card(self, customer: str) -> None:
        """The customer's Stripe Customer with `pm_card_visa` as its default card (what Stripe.js would save)."""
        from chalicelib.payments.gateway import get_gateway
        from chalicelib.subscriptions.subscribing import _ensure_customer

        stripe_customer = _ensure_customer(customer, get_gateway())
        card = self.stripe("/v1/payment_methods/pm_card_visa/attach", {"customer": stripe_customer})
        self.stripe(f"/v1/customers/{stripe_customer}", {"invoice_settings[default_payment_method]": card["id"]})


def seed_history(listings: dict[str, str]) -> dict[str, Any]:
    """Give the demo catalog (slug -> listing id, from scripts/seed_catalog.py) a history; returns a summary."""
    from chalice.test import Client

    from app import app
    from chalicelib.jobs import queue
    from scripts.job_poller import ensure_queues

    queue.reset()  # queue clients and URLs are made from this process's environment
    ensure_queues()  # idempotent; `make run`'s poller may not have created them yet
    with Client(app) as client:
        seeder = Seeder(client, listings)
        orders = seeder.sales(ORDERS)
        seeder.refunds(orders)
        seeder.seed_recurring()
        seeder.payouts()
        seeder.sales(ORDERS_AFTER_PAYOUT)
        seeder.reviews()
        seeder.reconciliation()
        return seeder.summary
