"""The composition root: which adapter each port uses in this stage, and who reacts to whose change.

Ports (`payments.gateway`, `payouts.gateway`, `reconciliation.sources`) and announcements
(`partners.events`) never choose or import their implementations, and the job queue never imports the
code of the jobs it runs (`JOB_HANDLERS`); this module does, once per process,
for `app.py`, the scripts and the tests. Adapters are built lazily on first use, so a cold start that
never talks to Stripe never imports the SDK. Tests install fakes with the ports' own `set_gateway` /
`use_connect` / `use_listing` after `configure()`.
"""
from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.jobs import registry as job_registry
from chalicelib.partners import events as partner_events
from chalicelib.payments import gateway as payment_port
from chalicelib.payouts import gateway as connect_port
from chalicelib.reconciliation import sources as listing_port

_configured = False


def _stripe_payments() -> payment_port.PaymentGateway:
    from chalicelib.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_settings()


def _connect_for_stage() -> connect_port.ConnectGateway:
    """The sandbox locally (state in the local DynamoDB), Stripe Connect in AWS stages."""
    if get_settings().is_local:
        from chalicelib.payouts.sandbox import ConnectSandbox

        return ConnectSandbox()
    from chalicelib.payouts.stripe_connect import StripeConnect

    return StripeConnect.from_settings()


def _listing_for_stage() -> listing_port.StripeListing:
    """Stripe's lists in AWS stages; locally localstripe (no `created` filter there) plus the Connect sandbox."""
    from chalicelib.payouts.stripe_connect import StripeConnect

    if get_settings().is_local:
        from chalicelib.payouts.sandbox import ConnectSandbox, LocalListing

        return LocalListing(StripeConnect.from_settings(created_filter=False), ConnectSandbox())
    return StripeConnect.from_settings()


def _hide_listings_of_suspended_partner(*, partner_id, actor) -> object:
    from chalicelib.catalog.partner_jobs import start_hiding

    return start_hiding(partner_id=partner_id, actor=actor)


def _rename_listings_of_partner(*, partner_id, display_name, at) -> object:
    from chalicelib.catalog.partner_jobs import start_renaming

    return start_renaming(partner_id=partner_id, display_name=display_name, at=at)


# Job kinds and the functions that run them (imported by the worker on first use).
JOB_HANDLERS = {
    "catalog.hide_partner_listings": "chalicelib.catalog.partner_jobs:hide_listings",
    "catalog.rename_partner_listings": "chalicelib.catalog.partner_jobs:rename_listings",
    "payouts.plan": "chalicelib.payouts.planning:plan",
    "payouts.batch": "chalicelib.payouts.batches:pay_batch",
    "reconciliation.step": "chalicelib.reconciliation.steps:run_step",
    "partner_webhooks.dispatch": "chalicelib.partner_webhooks.dispatch:dispatch",
    "partner_webhooks.deliver": "chalicelib.partner_webhooks.delivery:deliver",
    "partner_webhooks.replay": "chalicelib.partner_webhooks.dispatch:replay",
}


def _api_keys():
    from chalicelib.apikeys.service import DynamoKeys

    return DynamoKeys()


def configure() -> None:
    """Wire the ports and reactions for this process; safe to call more than once."""
    global _configured
    if _configured:
        return
    payment_port.provide(_stripe_payments)
    connect_port.provide(_connect_for_stage)
    listing_port.provide(_listing_for_stage)
    partner_events.when_suspended(_hide_listings_of_suspended_partner)
    partner_events.when_renamed(_rename_listings_of_partner)
    for kind, target in JOB_HANDLERS.items():
        job_registry.register(kind, target)
    # Partner API keys (`Bearer mpk_...`) are resolved and audited by the apikeys aggregate (built on first use).
    from chalicelib.core.identity import use_keys

    use_keys(_api_keys)
    _configured = True
