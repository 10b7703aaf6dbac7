"""Payout accounts: a partner's Stripe Connect Express account, its onboarding, and `account.updated`.

The account is created once per partner: Stripe (or the sandbox) is asked with an idempotency key per
partner, and the partner row takes the account id under `attribute_not_exists`, together with the
`CONNECT#<account>` lookup row that lets a webhook find the partner, and the audit record. Asking
again returns the same account with a fresh onboarding link (Stripe's links expire).
"""
from __future__ import annotations

from dataclasses import replace

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState
from chalicelib.core.identity import Principal
from chalicelib.db.transact import transaction
from chalicelib.partners.model import EDITABLE_STATES, Partner
from chalicelib.partners.repository import find_partner, set_payouts_enabled, set_stripe_account
from chalicelib.partners.service import partner_of
from chalicelib.payouts import repository
from chalicelib.payouts.gateway import ConnectGateway


def create_payout_account(*, user: Principal, base_url: str, gateway: ConnectGateway) -> tuple[dict, bool]:
    """The caller's partner's connected account and an onboarding link; True when it was just created."""
    partner = partner_of(user)
    if partner.status not in EDITABLE_STATES:
        raise InvalidState(f"A {partner.status} partner cannot set up payouts.")
    created = False
    if not partner.stripe_account_id:
        account_id = gateway.create_account(partner_id=partner.partner_id, email=partner.contact_email,
                                            country=partner.country)
        try:
            with transaction() as tx:
                set_stripe_account(tx, partner.partner_id, account_id, at=clock.now_iso())
                repository.add_connect_link(tx, account_id=account_id, partner_id=partner.partner_id)
                tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="partner.payout_account_created",
                                   entity_type="partner", entity_id=partner.partner_id,
                                   data={"stripe_account_id": account_id}))
            partner, created = replace(partner, stripe_account_id=account_id), True
        except Conflict:
            partner = partner_of(user)  # a concurrent request created it first: use that one
    url = gateway.onboarding_link(account_id=partner.stripe_account_id, base_url=base_url)
    return {"stripe_account_id": partner.stripe_account_id, "onboarding_url": url,
            "payouts_enabled": partner.payouts_enabled}, created


def apply_account_update(account_id: str, *, payouts_enabled: bool, source: str = "stripe") -> Partner | None:
    """Set `payouts_enabled` from an `account.updated` (or the sandbox's onboarding); None if unknown.

    Replays and out-of-order deliveries are harmless: the value is a state, written only when it
    changes, under a condition on the value it changes from.
    """
    link = repository.connect_link(account_id)
    partner = find_partner(link.partner_id) if link else None
    if partner is None:
        return None
    if partner.payouts_enabled == payouts_enabled:
        return partner
    try:
        with transaction() as tx:
            set_payouts_enabled(tx, partner.partner_id, payouts_enabled, at=clock.now_iso(), account_id=account_id,
                                was=partner.payouts_enabled)
            repository.set_link_payouts_enabled(tx, link, payouts_enabled)
            tx.save(audit_item(actor=source, action="partner.payouts_enabled" if payouts_enabled
                               else "partner.payouts_disabled", entity_type="partner",
                               entity_id=partner.partner_id, data={"stripe_account_id": account_id}))
    except Conflict:
        return find_partner(partner.partner_id)
    return replace(partner, payouts_enabled=payouts_enabled)
