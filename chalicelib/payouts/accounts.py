"""Payout accounts: a partner's Stripe Connect Express account, its onboarding, and `account.updated`.

The account is created once per partner: Stripe (or the sandbox) is asked with an idempotency key per
partner, and the partner row takes the account id under `attribute_not_exists`, together with the
`CONNECT#<account>` lookup row that lets a webhook find the partner, and the audit record. Asking
again returns the same account with a fresh onboarding link (Stripe's links expire).
"""
from __future__ import annotations

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState
from chalicelib.db import keys
from chalicelib.db.transact import transaction
from chalicelib.core.identity import Principal
from chalicelib.partners.model import EDITABLE_STATES
from chalicelib.partners.repository import PartnerItem, get_partner
from chalicelib.partners.service import partner_of
from chalicelib.payouts.gateway import ConnectGateway
from chalicelib.payouts.repository import ConnectLinkItem, connect_link


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
                tx.update(partner, actions=[PartnerItem.stripe_account_id.set(account_id),
                                            PartnerItem.updated_at.set(clock.now_iso())],
                          condition=PartnerItem.stripe_account_id.does_not_exist())
                tx.save(ConnectLinkItem(keys.connect_account_pk(account_id), keys.CONNECT_ACCOUNT_SK,
                                        account_id=account_id, partner_id=partner.partner_id),
                        condition=ConnectLinkItem.pk.does_not_exist())
                tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="partner.payout_account_created",
                                   entity_type="partner", entity_id=partner.partner_id,
                                   data={"stripe_account_id": account_id}))
            partner.stripe_account_id, created = account_id, True
        except Conflict:
            partner = partner_of(user)  # a concurrent request created it first: use that one
    url = gateway.onboarding_link(account_id=partner.stripe_account_id, base_url=base_url)
    return {"stripe_account_id": partner.stripe_account_id, "onboarding_url": url,
            "payouts_enabled": bool(partner.payouts_enabled)}, created


def apply_account_update(account_id: str, *, payouts_enabled: bool, source: str = "stripe") -> PartnerItem | None:
    """Set `payouts_enabled` from an `account.updated` (or the sandbox's onboarding); None if unknown.

    Replays and out-of-order deliveries are harmless: the value is a state, written only when it
    changes, under a condition on the value it changes from.
    """
    link = connect_link(account_id)
    partner = get_partner(link.partner_id) if link else None
    if partner is None:
        return None
    if bool(partner.payouts_enabled) == payouts_enabled:
        return partner
    try:
        with transaction() as tx:
            tx.update(partner, actions=[PartnerItem.payouts_enabled.set(payouts_enabled),
                                        PartnerItem.updated_at.set(clock.now_iso())],
                      condition=(PartnerItem.stripe_account_id == account_id)
                      & (PartnerItem.payouts_enabled == bool(partner.payouts_enabled)))
            tx.update(link, actions=[ConnectLinkItem.payouts_enabled.set(payouts_enabled)])
            tx.save(audit_item(actor=source, action="partner.payouts_enabled" if payouts_enabled
                               else "partner.payouts_disabled", entity_type="partner",
                               entity_id=partner.partner_id, data={"stripe_account_id": account_id}))
    except Conflict:
        return get_partner(partner.partner_id)
    partner.payouts_enabled = payouts_enabled
    return partner
