"""Demo catalog for `make run`: 20 published apps across categories and 2 bundles, from 3-4 partners.

It goes through the catalog's and partners' own service layer against the configured table, so the
demo data obeys every rule real data does (slugs, projection rows, audit records). Everything is keyed
by stable slugs and seed user ids: a rerun finds what exists and creates nothing twice.

    from scripts.seed_catalog import seed
    seed()                       # creates (or finds) its own 4 demo partners
    seed({"acme-owner": "ptn_…", "globex-owner": "ptn_…", "initech-owner": "ptn_…"})
                                 # publishes through the given approved partners' owners instead
    # -> {"partners": {key: partner_id}, "listings": {slug: listing_id}}
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib import bootstrap  # noqa: E402
from chalicelib.catalog import repository as catalog_repo  # noqa: E402
from chalicelib.catalog import decisions, lifecycle  # noqa: E402
from chalicelib.core import clock  # noqa: E402
from chalicelib.core.identity import Principal  # noqa: E402
from chalicelib.partners import repository as partner_repo  # noqa: E402
from chalicelib.partners import service as partners  # noqa: E402

bootstrap.configure()

SEED_ADMIN = Principal("seed-admin", groups=frozenset({"admin"}))

PARTNERS = {
    "northwind": ("Northwind Analytics", "hello@northwind.example", "DE", "https://northwind.example"),
    "bluebird": ("Bluebird Communications", "team@bluebird.example", "GB", "https://bluebird.example"),
    "forge": ("Forge Developer Tools", "ops@forge.example", "US", "https://forge.example"),
    "ledgerly": ("Ledgerly Finance", "sales@ledgerly.example", "FR", None),
}

# partner key, slug, name, category, tags, price (minor units), currency, summary
APPS = [
    ("northwind", "pulse-dashboards", "Pulse Dashboards", "analytics", ["dashboards", "kpi"], 2900, "usd",
     "Live KPI dashboards from every data source you already use."),
    ("northwind", "cohort-lens", "Cohort Lens", "analytics", ["cohorts", "retention"], 4900, "usd",
     "Retention and cohort analysis without writing SQL."),
    ("northwind", "funnel-forge", "Funnel Builder", "marketing", ["funnels", "conversion"], 1900, "usd",
     "See where visitors drop off and test what brings them back."),
    ("northwind", "sales-radar", "Sales Radar", "sales", ["crm", "forecasting"], 3900, "usd",
     "Pipeline forecasting that learns from your closed deals."),
    ("northwind", "survey-sense", "Survey Sense", "customer-support", ["surveys", "nps"], 0, "usd",
     "Free NPS and CSAT surveys with automatic sentiment tagging."),
    ("bluebird", "team-chat", "Team Chat", "communication", ["chat", "messaging"], 0, "usd",
     "Channels, threads and calls for small teams, free forever."),
    ("bluebird", "meeting-notes", "Meeting Notes AI", "productivity", ["meetings", "ai", "notes"], 1200, "usd",
     "Transcribes calls and writes the action items for you."),
    ("bluebird", "helpdesk-inbox", "Helpdesk Inbox", "customer-support", ["tickets", "email"], 2500, "usd",
     "A shared inbox that turns customer email into tracked tickets."),
    ("bluebird", "status-pages", "Status Pages", "communication", ["incidents", "uptime"], 900, "usd",
     "Hosted status pages that update themselves from your monitors."),
    ("bluebird", "hiring-pipeline", "Hiring Pipeline", "hr", ["recruiting", "ats"], 3500, "usd",
     "Track candidates from application to offer in one board."),
    ("forge", "ci-insights", "CI Insights", "developer-tools", ["ci", "builds", "flaky-tests"], 1500, "usd",
     "Finds slow and flaky tests across every pipeline."),
    ("forge", "secret-scanner", "Secret Scanner", "security", ["secrets", "compliance"], 2000, "usd",
     "Stops leaked keys before they reach the main branch."),
    ("forge", "api-mock-studio", "API Mock Studio", "developer-tools", ["api", "testing", "mocks"], 800, "usd",
     "Mock any HTTP API from its OpenAPI document in seconds."),
    ("forge", "release-notes", "Release Notes Writer", "productivity", ["changelog", "git"], 500, "usd",
     "Turns merged pull requests into readable release notes."),
    ("forge", "sprint-board", "Sprint Board", "project-management", ["agile", "kanban"], 1000, "usd",
     "A fast kanban board that lives next to your code."),
    ("forge", "design-tokens", "Design Tokens Sync", "design", ["figma", "tokens"], 1200, "usd",
     "Keeps design tokens in Figma and in code the same."),
    ("ledgerly", "invoice-flow", "Invoice Flow", "finance", ["invoicing", "payments"], 1900, "eur",
     "Send invoices, chase late payers and reconcile automatically."),
    ("ledgerly", "expense-snap", "Expense Snap", "finance", ["expenses", "receipts"], 900, "eur",
     "Photograph a receipt; the expense report writes itself."),
    ("ledgerly", "payroll-lite", "Payroll Lite", "hr", ["payroll", "eu"], 4900, "eur",
     "Payroll for European teams of up to fifty people."),
    ("ledgerly", "vat-checker", "VAT Checker", "finance", ["vat", "compliance", "eu"], 0, "eur",
     "Validates EU VAT numbers as customers type them."),
]

PARTNER_BUNDLE = ("forge", "forge-devops-pack", "DevOps Pack", "developer-tools", ["devops", "bundle"], 3500, "usd",
                  "CI Insights, Secret Scanner and API Mock Studio at a bundle price.",
                  ["ci-insights", "secret-scanner", "api-mock-studio"])
ADMIN_BUNDLE = ("startup-essentials", "Startup Essentials", "productivity", ["bundle", "starter"], 5900, "usd",
                "Dashboards, meeting notes, a helpdesk and a sprint board from three partners.",
                ["pulse-dashboards", "meeting-notes", "helpdesk-inbox", "sprint-board"],
                {"method": "weights", "weights": {}})


_owners: dict[str, str] = {}  # demo partner key -> owner sub (when the caller supplies the partners)


def _owner(key: str) -> Principal:
    return Principal(_owners.get(key, f"seed-partner-{key}"))


def _ensure_partner(key: str) -> str:
    owner = _owner(key)
    membership = partner_repo.get_membership(owner.sub)
    if membership is None:
        name, email, country, website = PARTNERS[key]
        partner_id = partners.apply(user=owner, display_name=name, contact_email=email, country=country,
                                    website=website).partner_id
    else:
        partner_id = membership.partner_id
    if partners.require_partner(partner_id).status == "pending":
        partners.decide(admin=SEED_ADMIN, partner_id=partner_id, action="approve", reason="demo data")
    return partner_id


def _existing(slug: str) -> str | None:
    claim = catalog_repo.get_slug(slug)
    return claim.listing_id if claim else None


def _publish(owner: Principal, body: dict) -> str:
    listing_id = _existing(body["slug"])
    if listing_id is None:
        listing_id = lifecycle.create_listing(user=owner, body=body)["listing_id"]
    status = catalog_repo.get_listing(listing_id).status
    if status == "draft":
        lifecycle.partner_action(user=owner, listing_id=listing_id, action="submit")
        status = "submitted"
    if status == "submitted":
        decisions.decide(admin=SEED_ADMIN, listing_id=listing_id, action="approve", reason="demo data")
    return listing_id


def seed(partners: dict[str, str] | None = None, now: datetime | None = None) -> dict:
    """Create (or find) the demo catalog; returns ids keyed by stable partner keys and slugs.

    `partners` (owner sub -> partner id of approved partners) makes those partners publish the demo
    apps, in turn; without it the seed creates and approves its own four demo partners.
    """
    if now is not None:
        clock.set_now(lambda: now)
    _owners.clear()
    if partners:
        subs = list(partners)
        _owners.update({key: subs[i % len(subs)] for i, key in enumerate(PARTNERS)})
    try:
        if partners:
            partner_ids = {key: partners[_owners[key]] for key in PARTNERS}
        else:
            partner_ids = {key: _ensure_partner(key) for key in PARTNERS}
        listings: dict[str, str] = {}
        for key, slug, name, category, tags, amount, currency, summary in APPS:
            listings[slug] = _publish(_owner(key), {
                "type": "app", "slug": slug, "name": name, "category": category, "tags": tags, "summary": summary,
                "description": f"{summary}\n\nDemo listing seeded for local development.",
                "price": {"amount": amount, "currency": currency},
            })
        key, slug, name, category, tags, amount, currency, summary, parts = PARTNER_BUNDLE
        listings[slug] = _publish(_owner(key), {
            "type": "bundle", "slug": slug, "name": name, "category": category, "tags": tags, "summary": summary,
            "price": {"amount": amount, "currency": currency}, "components": [listings[p] for p in parts],
        })
        slug, name, category, tags, amount, currency, summary, parts, split = ADMIN_BUNDLE
        existing = _existing(slug)
        if existing is None:
            component_ids = [listings[p] for p in parts]
            weights = {listing_id: weight for listing_id, weight in zip(component_ids, (3, 2, 2, 1))}
            existing = decisions.create_admin_bundle(admin=SEED_ADMIN, body={
                "slug": slug, "name": name, "category": category, "tags": tags, "summary": summary,
                "price": {"amount": amount, "currency": currency}, "components": component_ids,
                "split": {**split, "weights": weights},
            })["listing_id"]
        listings[slug] = existing
        return {"partners": partner_ids, "listings": listings}
    finally:
        if now is not None:
            clock.set_now(None)


seed_catalog = seed


if __name__ == "__main__":
    from chalicelib.db.table import create_table

    create_table()
    result = seed()
    print(f"seeded {len(result['partners'])} partners and {len(result['listings'])} listings")
