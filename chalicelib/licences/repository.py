"""The one row licences add: which marketplace user a per-partner customer id stands for.

A licence names its customer by `customer_ref(partner, user)`, a keyed hash that cannot be reversed. To
answer "is this entitlement still held?" when a partner presents a licence, the marketplace needs the user
back: `CUSTREF#<ref>` / `USER` records it, written (once, `attribute_not_exists`) when a licence is issued.
Partners never see it; it holds only the user id and the partner the ref belongs to.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.db.table import MarketItem

USER_SK = "USER"


def customer_ref_pk(ref: str) -> str:
    return f"CUSTREF#{ref}"


class CustomerRefItem(MarketItem, discriminator="CustomerRef"):
    partner_id = UnicodeAttribute()
    user_sub = UnicodeAttribute()


def remember(ref: str, *, partner_id: str, user_sub: str) -> None:
    """Record who `ref` is, unless it is recorded already (the ref is a function of both: it never changes)."""
    from pynamodb.exceptions import PutError

    try:
        CustomerRefItem(customer_ref_pk(ref), USER_SK, partner_id=partner_id, user_sub=user_sub).save(
            condition=CustomerRefItem.pk.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise


def user_of(ref: str, *, partner_id: str) -> str | None:
    """The user `ref` stands for at this partner, or None (never issued, or another partner's ref)."""
    try:
        item = CustomerRefItem.get(customer_ref_pk(ref), USER_SK)
    except CustomerRefItem.DoesNotExist:
        return None
    return item.user_sub if item.partner_id == partner_id else None
