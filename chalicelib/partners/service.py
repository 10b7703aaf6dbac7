"""Partner use cases: apply, read and edit one's own profile, admin decisions and commission changes.

Each state change is one DynamoDB transaction holding the change, its guard condition and its audit
record, so a race between two admins (or a double click) leaves exactly one decision and one record.
Every use case returns a `Partner` model; `views.partner_dict` turns one into the API's answer.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from chalicelib.audit.repository import audit_item
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from chalicelib.core.identity import Principal
from chalicelib.core.ids import new_id
from chalicelib.db.pages import Page
from chalicelib.db.transact import transaction
from chalicelib.partners import events, model, repository
from chalicelib.partners.model import CommissionEntry, Partner


def apply(*, user: Principal, display_name: str, contact_email: str, country: str,
          website: str | None = None) -> Partner:
    """Create a pending partner owned by `user`; a user owns at most one partner."""
    now = clock.now_iso()
    partner_id = new_id("ptn")
    first_rate = CommissionEntry(get_settings().default_commission_bps, date.fromisoformat(now[:10]), now, "default")
    with transaction(on_condition_failed=lambda _: Conflict("You already belong to a partner account.")) as tx:
        partner = repository.add_application(
            tx, partner_id=partner_id, owner_sub=user.sub, display_name=display_name, contact_email=contact_email,
            country=country, website=website, first_rate=first_rate, at=now,
        )
        tx.save(audit_item(
            actor=user.sub, actor_roles=user.groups, action="partner.applied", entity_type="partner",
            entity_id=partner_id, data={"display_name": display_name, "country": country},
        ))
    return partner


def partner_of(user: Principal) -> Partner:
    """The partner `user` belongs to; 404 when the user is not a partner member."""
    partner = repository.find_partner_of(user.sub)
    if partner is None:
        raise NotFound("You do not belong to a partner account; apply with POST /partners.")
    return partner


def update_mine(*, user: Principal, changes: dict) -> Partner:
    """Edit the caller's own profile while it is pending or approved."""
    partner = partner_of(user)
    if partner.status not in model.EDITABLE_STATES:
        raise InvalidState(f"A {partner.status} partner's profile cannot be edited.")
    now = clock.now_iso()
    with transaction(on_condition_failed=lambda _: InvalidState("The partner changed state; try again.")) as tx:
        repository.update_profile(tx, partner.partner_id, changes, owner_sub=partner.owner_sub, at=now)
        tx.save(audit_item(
            actor=user.sub, actor_roles=user.groups, action="partner.updated", entity_type="partner",
            entity_id=partner.partner_id, data={"changes": changes},
        ))
    if "display_name" in changes:
        # The catalog's copies of the name follow (the catalog subscribes and queues the rewrite). Announced
        # even when the name is unchanged, so repeating a PATCH whose announcement failed (503) redoes it.
        events.partner_renamed(partner_id=partner.partner_id, display_name=changes["display_name"], at=now)
    return replace(partner, **changes, updated_at=now)


def require_partner(partner_id: str) -> Partner:
    partner = repository.find_partner(partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def list_partners(*, status: str | None, limit: int, cursor: str | None) -> Page[Partner]:
    """Partners oldest first, all of them or those with one status (the admin's applications queue)."""
    page = repository.list_partners(status=status, limit=limit, cursor=cursor, scope=f"admin-partners:{status or '*'}")
    return Page([row.to_model() for row in page.items], page.next_cursor)


def decide(*, admin: Principal, partner_id: str, action: str, reason: str | None = None) -> Partner:
    """Apply an admin decision (approve, reject, suspend, reinstate) to a partner, with its audit record.

    Reinstating only returns the partner to `approved`: its listings were suspended one by one and come
    back one by one (`POST /admin/listings/{id}/relist`), each after an admin has looked at it again.
    """
    partner = require_partner(partner_id)
    target = model.next_status(action, partner.status)
    if target is None:
        if action == "suspend" and partner.status == model.SUSPENDED:
            # The catalog reads the partner's status from its own copies, so a suspension whose listing
            # cascade was cut short (a 503 after the status committed) must be finishable: repeating the
            # suspension re-announces it (the reaction only touches listings still published), then
            # answers as before.
            events.partner_suspended(partner_id=partner_id, actor=admin)
        raise InvalidState(f"A {partner.status} partner cannot be {model.PAST[action]}.")
    now = clock.now_iso()
    previous = partner.status
    with transaction(
        on_condition_failed=lambda _: InvalidState("The partner was changed by another request; reload it.")
    ) as tx:
        repository.set_status(tx, partner_id, status=target, was=previous, reason=reason,
                              created_at=partner.created_at, owner_sub=partner.owner_sub, at=now)
        tx.save(audit_item(
            actor=admin.sub, actor_roles=admin.groups, action=f"partner.{model.PAST[action]}", entity_type="partner",
            entity_id=partner_id, reason=reason, data={"from": previous, "to": target},
        ))
    if target == model.SUSPENDED:
        # A suspended partner's listings leave every catalog view (the catalog subscribes; it owns how).
        events.partner_suspended(partner_id=partner_id, actor=admin)
    return replace(partner, status=target, status_reason=reason, updated_at=now)


def set_commission(*, actor: Principal, partner_id: str, bps: int, effective_from: date) -> Partner:
    """Schedule a commission rate from a date on; past dates are refused so frozen orders stay true."""
    if effective_from < clock.today():
        raise ValidationFailed(
            "A commission change cannot take effect in the past.",
            [{"field": "effective_from", "message": "must be today or later", "in": "body"}],
        )
    partner = require_partner(partner_id)
    now = clock.now_iso()
    entry = CommissionEntry(bps, effective_from, now, actor.sub)
    in_force = partner.commission_bps(clock.today(), get_settings().default_commission_bps)
    with transaction() as tx:
        repository.add_commission(tx, partner_id, entry)
        tx.save(audit_item(
            actor=actor.sub, actor_roles=actor.groups, action="partner.commission_scheduled",
            entity_type="partner", entity_id=partner_id,
            data={"bps": bps, "effective_from": effective_from.isoformat(),
                  "previous_bps_in_force": in_force},
        ))
    return replace(partner, commission_history=(*partner.commission_history, entry), updated_at=now)
