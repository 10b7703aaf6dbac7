"""Partner rows in the single table, their mapping to `Partner` models, and the writes on them.

`PARTNER#<id>/PROFILE` holds the profile, reachable by status on gsi1 (the admin queue), on gsi2
(every partner) and by its owner on gsi3 (`OWNER#<sub>`: "the caller's partner" in one Query).
`USER#<sub>/PARTNER` is the membership row that makes "one partner per user" true by construction: it is
written with `attribute_not_exists` in the same transaction as the profile.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem, get_rows
from chalicelib.db.transact import Transaction
from chalicelib.partners.model import APPROVED, EDITABLE_STATES, PENDING, CommissionEntry, Partner, commission_in_force


class CommissionAttr(MapAttribute):
    bps = NumberAttribute()
    effective_from = UnicodeAttribute()
    set_at = UnicodeAttribute()
    set_by = UnicodeAttribute()


class PartnerItem(MarketItem, discriminator="Partner"):
    partner_id = UnicodeAttribute()
    owner_sub = UnicodeAttribute()
    display_name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    country = UnicodeAttribute()
    website = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    commission_history = ListAttribute(of=CommissionAttr, default=list)
    payouts_enabled = BooleanAttribute(default=False)
    stripe_account_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def commission_entries(self) -> list[CommissionEntry]:
        return [
            CommissionEntry(int(e.bps), date.fromisoformat(e.effective_from), e.set_at, e.set_by)
            for e in self.commission_history
        ]

    def commission_bps(self, on: date | None = None) -> int:
        return commission_in_force(
            self.commission_entries(), on or clock.today(), get_settings().default_commission_bps
        )

    def to_model(self) -> Partner:
        return Partner(
            partner_id=self.partner_id, owner_sub=self.owner_sub, display_name=self.display_name,
            contact_email=self.contact_email, country=self.country, website=self.website, status=self.status,
            status_reason=self.status_reason, commission_history=tuple(self.commission_entries()),
            payouts_enabled=bool(self.payouts_enabled), stripe_account_id=self.stripe_account_id,
            created_at=self.created_at, updated_at=self.updated_at,
        )


class MembershipItem(MarketItem, discriminator="Membership"):
    """Which partner a user belongs to, and in what role."""

    partner_id = UnicodeAttribute()
    role = UnicodeAttribute(default="owner")
    created_at = UnicodeAttribute()


def status_index_keys(status: str, created_at: str, partner_id: str) -> dict:
    return {"gsi1pk": keys.partners_by_status_pk(status), "gsi1sk": keys.created_sk(created_at, partner_id)}


def owner_index_keys(owner_sub: str) -> dict:
    return {"gsi3pk": keys.partner_owner_pk(owner_sub), "gsi3sk": keys.PROFILE_SK}


def get_partner(partner_id: str) -> PartnerItem | None:
    try:
        return PartnerItem.get(keys.partner_pk(partner_id), keys.PROFILE_SK)
    except PartnerItem.DoesNotExist:
        return None


def get_membership(sub: str) -> MembershipItem | None:
    try:
        return MembershipItem.get(keys.user_pk(sub), keys.USER_PARTNER_SK)
    except MembershipItem.DoesNotExist:
        return None


def list_partners(*, status: str | None, limit: int, cursor: str | None, scope: str) -> Page[PartnerItem]:
    """Oldest first: one status on gsi1, or all partners on gsi2."""
    if status:
        return query_page(
            lambda size, start: PartnerItem.gsi1.query(
                keys.partners_by_status_pk(status), limit=size, last_evaluated_key=start
            ),
            limit=limit, cursor=cursor, scope=scope, index="gsi1",
        )
    return query_page(
        lambda size, start: PartnerItem.gsi2.query(keys.PARTNERS_ALL_PK, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi2",
    )


# --- the partners' own writes, added to the caller's transaction -------------------------------------
def _commission_attr(entry: CommissionEntry) -> CommissionAttr:
    return CommissionAttr(bps=entry.bps, effective_from=entry.effective_from.isoformat(), set_at=entry.set_at,
                          set_by=entry.set_by)


def add_application(tx: Transaction, *, partner_id: str, owner_sub: str, display_name: str, contact_email: str,
                    country: str, website: str | None, first_rate: CommissionEntry, at: str) -> Partner:
    """Add the owner's membership (one partner per user) and the pending profile, both only if new."""
    partner = PartnerItem(
        pk=keys.partner_pk(partner_id), sk=keys.PROFILE_SK,
        **status_index_keys(PENDING, at, partner_id),
        gsi2pk=keys.PARTNERS_ALL_PK, gsi2sk=keys.created_sk(at, partner_id), **owner_index_keys(owner_sub),
        partner_id=partner_id, owner_sub=owner_sub, display_name=display_name, contact_email=contact_email,
        country=country, website=website, status=PENDING, commission_history=[_commission_attr(first_rate)],
        payouts_enabled=False, created_at=at, updated_at=at,
    )
    membership = MembershipItem(
        pk=keys.user_pk(owner_sub), sk=keys.USER_PARTNER_SK, partner_id=partner_id, role="owner", created_at=at,
    )
    tx.save(membership, condition=MembershipItem.pk.does_not_exist(), label="membership")
    tx.save(partner, condition=PartnerItem.pk.does_not_exist(), label="partner")
    return partner.to_model()


def _owner_index_actions(owner_sub: str) -> list:
    # Profiles written before gsi3 carried the owner lack these keys: any write of the profile adds them.
    index = owner_index_keys(owner_sub)
    return [PartnerItem.gsi3pk.set(index["gsi3pk"]), PartnerItem.gsi3sk.set(index["gsi3sk"])]


def update_profile(tx: Transaction, partner_id: str, changes: dict, *, owner_sub: str, at: str) -> None:
    """Set (or, for None, remove) profile fields, while the partner is in an editable state."""
    actions = [PartnerItem.updated_at.set(at), *_owner_index_actions(owner_sub)]
    for name, value in changes.items():
        attribute = getattr(PartnerItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    tx.update(PartnerItem(*profile_key(partner_id)), actions=actions,
              condition=PartnerItem.status.is_in(*EDITABLE_STATES), label="profile")


def set_status(tx: Transaction, partner_id: str, *, status: str, was: str, reason: str | None, created_at: str,
               owner_sub: str, at: str) -> None:
    """Move the partner from `was` to `status` (and to that status's queue on gsi1), if it is still `was`."""
    index = status_index_keys(status, created_at, partner_id)
    actions = [
        PartnerItem.status.set(status), PartnerItem.updated_at.set(at), PartnerItem.gsi1pk.set(index["gsi1pk"]),
        PartnerItem.status_reason.set(reason) if reason else PartnerItem.status_reason.remove(),
        *_owner_index_actions(owner_sub),
    ]
    tx.update(PartnerItem(*profile_key(partner_id)), actions=actions, condition=PartnerItem.status == was,
              label="status")


def add_commission(tx: Transaction, partner_id: str, entry: CommissionEntry) -> None:
    """Append a scheduled rate to the partner's commission history (kept whole: orders freeze the rate)."""
    tx.update(PartnerItem(*profile_key(partner_id)), actions=[
        PartnerItem.commission_history.set(PartnerItem.commission_history.append([_commission_attr(entry)])),
        PartnerItem.updated_at.set(entry.set_at),
    ], condition=PartnerItem.pk.exists(), label="commission")


# --- what other aggregates use: models out, named operations in ------------------------------------
def profile_key(partner_id: str) -> tuple[str, str]:
    """The (pk, sk) of a partner's profile, for a caller that reads several aggregates' rows at once."""
    return keys.partner_pk(partner_id), keys.PROFILE_SK


def partners_among(rows: Iterable[MarketItem]) -> dict[str, Partner]:
    """The partner profiles among rows of any kind (from `db.table.get_rows`), by partner id."""
    return {row.partner_id: row.to_model() for row in rows if isinstance(row, PartnerItem)}


def find_partner(partner_id: str) -> Partner | None:
    row = get_partner(partner_id)
    return row.to_model() if row is not None else None


def find_partner_of(owner_sub: str) -> Partner | None:
    """The partner `owner_sub` belongs to: one Query of its profile by owner on gsi3.

    Falls back to the two reads (membership row, then profile) when the index finds nothing: a profile
    written before gsi3 carried the owner (until its next write adds it), an index not yet caught up with
    a partner created a moment ago, or a user who belongs to no partner (then both find nothing).
    """
    row = next(iter(PartnerItem.gsi3.query(keys.partner_owner_pk(owner_sub), limit=1)), None)
    if row is not None:
        return row.to_model()
    membership = get_membership(owner_sub)
    return find_partner(membership.partner_id) if membership else None


def load_partners(partner_ids: Iterable[str], *, consistent: bool = False) -> dict[str, Partner]:
    """Several partners in one BatchGetItem (per 100), by id; unknown ids are absent."""
    return partners_among(get_rows((profile_key(p) for p in partner_ids), consistent=consistent))


def require_approved(tx: Transaction, partner_id: str, *, label: str = "partner") -> None:
    """Make `tx` fail (under `label`) unless the partner is approved when it commits."""
    tx.condition_check(PartnerItem, *profile_key(partner_id), condition=PartnerItem.status == APPROVED, label=label)


def set_stripe_account(tx: Transaction, partner_id: str, account_id: str, *, at: str, label: str = "account") -> None:
    """Record the partner's connected account, once: refused when it already has one."""
    tx.update(PartnerItem(*profile_key(partner_id)),
              actions=[PartnerItem.stripe_account_id.set(account_id), PartnerItem.updated_at.set(at)],
              condition=PartnerItem.stripe_account_id.does_not_exist(), label=label)


def set_payouts_enabled(tx: Transaction, partner_id: str, enabled: bool, *, at: str, account_id: str | None = None,
                        was: bool | None = None, label: str = "payouts_enabled") -> None:
    """Switch payouts on or off; guarded by the account id and the previous value when given."""
    condition = PartnerItem.pk.exists()
    if account_id is not None:
        condition &= PartnerItem.stripe_account_id == account_id
    if was is not None:
        condition &= PartnerItem.payouts_enabled == was
    tx.update(PartnerItem(*profile_key(partner_id)),
              actions=[PartnerItem.payouts_enabled.set(enabled), PartnerItem.updated_at.set(at)],
              condition=condition, label=label)
