"""Apply what a subscription *is* now, once: its row, the subscriber's access, MRR, partner events, audit.

Every status change (created, paid, past due, cancel requested, ended) goes through `write_state`: one
transaction (through the partner events outbox) holding the subscription row (conditioned on the `rev`
read), the entitlements it holds (created or extended to the access end, or released), each partner's MRR
counter moved by the change of its recurring share, the hold row released when it ends,
`subscription.started` / `subscription.canceled` once each per partner, the audit record and the caller's
own rows (a webhook's event marker, an idempotency record). `sync_from_stripe` computes the new state from
Stripe's subscription as re-read, so duplicated or reordered events converge on the same state.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from chalicelib.audit.repository import audit_item
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.money import Money
from chalicelib.core.pseudonyms import customer_ref
from chalicelib.db.transact import ConditionsFailed
from chalicelib.entitlements import repository as entitlements
from chalicelib.entitlements.model import SubscriptionGrant
from chalicelib.partner_feed import outbox
from chalicelib.payments.gateway import SubscriptionView
from chalicelib.subscriptions import model, repository
from chalicelib.subscriptions.model import Subscription

TxHook = Callable[[Any], None]
MAX_ATTEMPTS = 4


def no_hook(_tx: Any) -> None:
    return None


def hook_only(hook: TxHook) -> None:
    """Commit the caller's rows alone (a webhook marker of an event that changes nothing)."""
    if hook is not no_hook:
        outbox.commit(hook)


def grace_days() -> int:
    return get_settings().grace_days


def _grants(sub: Subscription) -> list[SubscriptionGrant]:
    return [SubscriptionGrant(listing_id, kind, sub.name if listing_id == sub.listing_id else None, via)
            for listing_id, kind, via in sub.grants]


def lifecycle_data(sub: Subscription, partner_id: str) -> dict:
    """The data of `subscription.started` / `.canceled` for one partner: its share, never the user's id."""
    share = sum(p.amount for p in sub.parts if p.partner_id == partner_id)
    return {
        "subscription_id": sub.subscription_id, "listing_id": sub.listing_id,
        "customer": customer_ref(partner_id, sub.customer_sub), "status": sub.status,
        "interval": sub.interval, "share": Money(share, sub.currency).to_dict(),
        "listings": [p.listing_id for p in sub.parts if p.partner_id == partner_id],
        "current_period_end": sub.current_period_end, "cancel_at_period_end": sub.cancel_at_period_end,
        "access_until": model.access_until(sub, grace_days=grace_days()),
    }


def _announcements(after: Subscription) -> tuple[Subscription, list[str]]:
    """The lifecycle events this state owes (each once per subscription) and the flags that record them."""
    due = []
    if after.status in (model.TRIALING, model.ACTIVE) and not after.started:
        after, due = replace(after, started=True), ["subscription.started"]
    if after.started and not after.cancel_announced and (after.cancel_at_period_end or after.status == model.CANCELED):
        after, due = replace(after, cancel_announced=True), [*due, "subscription.canceled"]
    return after, due


def write_state(before: Subscription | None, after: Subscription, *, action: str, actor: str,
                roles: frozenset[str] = frozenset(), hook: TxHook = no_hook,
                extra: Callable[[Any], None] | None = None, reason: str | None = None) -> Subscription:
    """Commit `after` (a new subscription when `before` is None) with everything that follows from it."""
    after, events = _announcements(after)
    until = model.access_until(after, grace_days=grace_days())
    had_access = before is not None and before.status != model.INCOMPLETE
    ending = after.status == model.CANCELED and (before is None or before.status != model.CANCELED)
    deltas = model.mrr_delta(before, after)
    at = after.updated_at
    skip: set[str] = set()
    for _attempt in range(MAX_ATTEMPTS):
        def write(tx) -> None:
            hook(tx)
            if before is None:
                repository.put_new(tx, after)
            else:
                repository.put_changed(tx, after, read_rev=before.rev)
            if ending:
                repository.release_hold(tx, after)
            if until is not None:
                entitlements.hold_for_subscription(
                    tx, after.customer_sub, _grants(after), subscription_id=after.subscription_id,
                    expires_at=until, at=at, skip=frozenset(skip))
            elif had_access:
                entitlements.release_for_subscription(
                    tx, after.customer_sub, [g.listing_id for g in _grants(after)],
                    subscription_id=after.subscription_id, skip=frozenset(skip))
            if deltas:
                repository.add_mrr(tx, deltas, after.currency)
            for event_type in events:
                for partner_id in after.partner_ids():
                    outbox.record(tx, partner_id=partner_id, type=event_type, data=lifecycle_data(after, partner_id))
            tx.save(audit_item(
                actor=actor, actor_roles=roles, action=action, entity_type="subscription",
                entity_id=after.subscription_id, at=at, reason=reason,
                data={"status": after.status, "from": before.status if before else None,
                      "current_period_end": after.current_period_end, "access_until": until,
                      "cancel_at_period_end": after.cancel_at_period_end, "mrr": deltas}))
            if extra is not None:
                extra(tx)

        try:
            outbox.commit(write)
            return after
        except ConditionsFailed as exc:
            # A row an order (or another subscription) holds is not this subscription's to take or drop.
            theirs = entitlements.refused_revocations(exc.refusal, after.customer_sub)
            if not theirs or theirs <= skip:
                raise
            skip |= theirs
    raise Conflict("The subscription's entitlements kept changing; try again.")


def sync_from_stripe(sub: Subscription, view: SubscriptionView, *, hook: TxHook = no_hook, actor: str = "stripe",
                     roles: frozenset[str] = frozenset(), action: str | None = None) -> tuple[Subscription, str]:
    """Move `sub` to what Stripe's subscription says now; returns (subscription, outcome)."""
    at = clock.now_iso()
    after = model.synced(sub, stripe_status=view.status, period_end=view.current_period_end,
                         cancel_at_period_end=view.cancel_at_period_end, at=at)
    flagged, events = _announcements(after)
    if model.same_state(sub, after) and not events:
        hook_only(hook)
        return sub, f"noop:{sub.status}"
    after = replace(after, rev=sub.rev + 1, updated_at=at)
    done = write_state(sub, after, action=action or f"subscription.{after.status}", actor=actor, roles=roles,
                       hook=hook)
    return done, after.status
