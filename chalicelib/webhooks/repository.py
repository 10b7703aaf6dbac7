"""Rows the webhook keeps: processed event ids, and what `account.updated` last said about an account.

`STRIPEEVENT#<id>` is saved with `attribute_not_exists` in the transaction of the event's effect: an event
whose marker exists has taken effect, and a second delivery racing the first cannot both commit.
`STRIPEACCOUNT#<acct>/STATUS` keeps the connected account's flags with the `created` time of the event
that set them; an older event never overwrites a newer one. Payouts read `payouts_enabled` from the
partner row, which the same transaction updates when the account is linked to a partner
(`CONNECT#<acct>/PARTNER`, written by the payouts code when it creates the account).
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.db import keys
from chalicelib.db.table import MarketItem, connection
from chalicelib.db.transact import Refusal, Transaction


class StripeEventItem(MarketItem, discriminator="StripeEvent"):
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    processed_at = UnicodeAttribute()


class StripeAccountStatusItem(MarketItem, discriminator="StripeAccountStatus"):
    account_id = UnicodeAttribute()
    partner_id = UnicodeAttribute(null=True)
    payouts_enabled = BooleanAttribute(default=False)
    charges_enabled = BooleanAttribute(default=False)
    details_submitted = BooleanAttribute(default=False)
    event_created = NumberAttribute()
    updated_at = UnicodeAttribute()


def marker(event_id: str, event_type: str) -> StripeEventItem:
    return StripeEventItem(keys.stripe_event_pk(event_id), keys.STRIPE_EVENT_SK, event_id=event_id,
                           event_type=event_type, processed_at=clock.now_iso())


def save_marker(tx, event_id: str, event_type: str) -> None:
    tx.save(marker(event_id, event_type), condition=StripeEventItem.pk.does_not_exist())


def marker_refused(refusal: Refusal, event_id: str) -> bool:
    """Whether `refusal` says the event's marker exists: another delivery of it took effect."""
    return refusal.hit(keys.stripe_event_pk(event_id))


def save_account_status(tx: Transaction, *, account_id: str, partner_id: str | None, flags: dict[str, bool],
                        event_created: int, at: str) -> None:
    """Store the account's flags unless a newer event (by Stripe's `created`) already stored its own."""
    status = StripeAccountStatusItem(
        keys.stripe_account_status_pk(account_id), keys.STRIPE_ACCOUNT_STATUS_SK, account_id=account_id,
        partner_id=partner_id, event_created=event_created, updated_at=at, **flags)
    tx.save(status, condition=StripeAccountStatusItem.pk.does_not_exist()
            | (StripeAccountStatusItem.event_created <= event_created))


def already_processed(event_id: str) -> bool:
    try:
        StripeEventItem.get(keys.stripe_event_pk(event_id), keys.STRIPE_EVENT_SK, consistent_read=True)
        return True
    except StripeEventItem.DoesNotExist:
        return False


def partner_of_account(account_id: str) -> str | None:
    """The partner linked to a connected account, whatever model the payouts code stores the link with."""
    raw = connection().get_item(
        get_settings().table_name, keys.connect_account_pk(account_id), keys.CONNECT_ACCOUNT_SK,
        attributes_to_get=["partner_id"],
    )
    value = (raw.get("Item") or {}).get("partner_id", {})
    return value.get("S")
