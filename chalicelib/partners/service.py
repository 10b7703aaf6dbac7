"""Partner use cases: apply, read and edit one's own profile, admin decisions and commission changes.

Each state change is one DynamoDB transaction holding the change, its guard condition and its audit
record, so a race between two admins (or a double click) leaves exactly one decision and one record.
"""
from __future__ import annotations

from datetime import date

from chalicelib.audit.repository import audit_item
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.db import keys
from chalicelib.db.transact import transaction
from chalicelib.core.identity import Principal
from chalicelib.partners import events, model
from chalicelib.partners.repository import (
    CommissionAttr, MembershipItem, PartnerItem, get_membership, get_partner, status_index_keys,
)


def apply(*, user: Principal, display_name: str, contact_email: str, country: str, website: str | None = None) -> PartnerItem:
    """Create a pending partner owned by `user`; a user owns at most one partner."""
    now = clock.now_iso()
    partner_id = new_id("ptn")
    partner = PartnerItem(
        pk=keys.partner_pk(partner_id), sk=keys.PROFILE_SK,
        **status_index_keys(model.PENDING, now, partner_id),
        gsi2pk=keys.PARTNERS_ALL_PK, gsi2sk=keys.created_sk(now, partner_id),
        partner_id=partner_id, owner_sub=user.sub, display_name=display_name, contact_email=contact_email,
        country=country, website=website, status=model.PENDING,
        commission_history=[CommissionAttr(
            bps=get_settings().default_commission_bps, effective_from=now[:10], set_at=now, set_by="default",
        )],
        payouts_enabled=False, created_at=now, updated_at=now,
    )
    membership = MembershipItem(
        pk=keys.user_pk(user.sub), sk=keys.USER_PARTNER_SK, partner_id=partner_id, role="owner", created_at=now,
    )
    with transaction(on_condition_failed=lambda _: Conflict("You already belong to a partner account.")) as tx:
        tx.save(membership, condition=MembershipItem.pk.does_not_exist())
        tx.save(partner, condition=PartnerItem.pk.does_not_exist())
        tx.save(audit_item(
            actor=user.sub, actor_roles=user.groups, action="partner.applied", entity_type="partner",
            entity_id=partner_id, data={"display_name": display_name, "country": country},
        ))
    return partner


def partner_of(user: Principal) -> PartnerItem:
    """The partner `user` belongs to; 404 when the user is not a partner member."""
    membership = get_membership(user.sub)
    partner = get_partner(membership.partner_id) if membership else None
    if partner is None:
        raise NotFound("You do not belong to a partner account; apply with POST /partners.")
    return partner


def update_mine(*, user: Principal, changes: dict) -> PartnerItem:
    """Edit the caller's own profile while it is pending or approved."""
    partner = partner_of(user)
    if partner.status not in model.EDITABLE_STATES:
        raise InvalidState(f"A {partner.status} partner's profile cannot be edited.")
    now = clock.now_iso()
    actions = [PartnerItem.updated_at.set(now)]
    for name, value in changes.items():
        attribute = getattr(PartnerItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    with transaction(on_condition_failed=lambda _: InvalidState("The partner changed state; try again.")) as tx:
        tx.update(partner, actions=actions, condition=PartnerItem.status.is_in(*model.EDITABLE_STATES))
        tx.save(audit_item(
            actor=user.sub, actor_roles=user.groups, action="partner.updated", entity_type="partner",
            entity_id=partner.partner_id, data={"changes": changes},
        ))
    for name, value in changes.items():
        setattr(partner, name, value)
    partner.updated_at = now
    return partner


def require_partner(partner_id: str) -> PartnerItem:
    partner = get_partner(partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def decide(*, admin: Principal, partner_id: str, action: str, reason: str | None = None) -> PartnerItem:
    """Apply an admin decision (approve, reject, suspend) to a partner, with its audit record."""
    partner = require_partner(partner_id)
    target = model.next_status(action, partner.status)
    if target is None:
        raise InvalidState(f"A {partner.status} partner cannot be {action}d.")
    now = clock.now_iso()
    index = status_index_keys(target, partner.created_at, partner_id)
    actions = [
        PartnerItem.status.set(target), PartnerItem.updated_at.set(now),
        PartnerItem.gsi1pk.set(index["gsi1pk"]),
        PartnerItem.status_reason.set(reason) if reason else PartnerItem.status_reason.remove(),
    ]
    previous = partner.status
    with transaction(
        on_condition_failed=lambda _: InvalidState("The partner was changed by another request; reload it.")
    ) as tx:
        tx.update(partner, actions=actions, condition=PartnerItem.status == previous)
        tx.save(audit_item(
            actor=admin.sub, actor_roles=admin.groups, action=f"partner.{action}d", entity_type="partner",
            entity_id=partner_id, reason=reason, data={"from": previous, "to": target},
        ))
    partner.status, partner.status_reason, partner.updated_at = target, reason, now
    partner.gsi1pk = index["gsi1pk"]
    if target == model.SUSPENDED:
        # A suspended partner's listings leave every catalog view (the catalog subscribes; it owns how).
        events.partner_suspended(partner_id=partner_id, actor=admin)
    return partner


def set_commission(*, actor: Principal, partner_id: str, bps: int, effective_from: date) -> PartnerItem:
    """Schedule a commission rate from a date on; past dates are refused so frozen orders stay true."""
    if effective_from < clock.today():
        raise ValidationFailed(
            "A commission change cannot take effect in the past.",
            [{"field": "effective_from", "message": "must be today or later", "in": "body"}],
        )
    partner = require_partner(partner_id)
    now = clock.now_iso()
    entry = CommissionAttr(bps=bps, effective_from=effective_from.isoformat(), set_at=now, set_by=actor.sub)
    with transaction() as tx:
        tx.update(
            partner,
            actions=[
                PartnerItem.commission_history.set(PartnerItem.commission_history.append([entry])),
                PartnerItem.updated_at.set(now),
            ],
            condition=PartnerItem.pk.exists(),
        )
        tx.save(audit_item(
            actor=actor.sub, actor_roles=actor.groups, action="partner.commission_scheduled",
            entity_type="partner", entity_id=partner_id,
            data={"bps": bps, "effective_from": effective_from.isoformat(),
                  "previous_bps_in_force": partner.commission_bps()},
        ))
    partner.commission_history = [*partner.commission_history, entry]
    partner.updated_at = now
    return partner
