"""ConnectSandbox: the local stage's stand-in for Stripe Connect (localstripe has no Connect).

It keeps connected accounts and transfers in the local DynamoDB table, honours idempotency keys the
way Stripe does (same key: the same transfer back, never a second one), refuses transfers to
accounts that have not finished onboarding, and lists transfers by creation time for reconciliation.
Its onboarding link points at a GET route of this API (`/connect-sandbox/onboard/{account_id}`,
local stage only, signed token in the link); opening it completes onboarding exactly the way a
Stripe `account.updated` webhook with `payouts_enabled: true` would. `LocalListing` pairs it with
localstripe as reconciliation's listing in the local stage.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Iterator

from pynamodb.exceptions import PutError
from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.ids import new_id
from chalicelib.db import keys
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import transaction
from chalicelib.payouts.gateway import TRANSFER, StripeRecord, Transfer, TransferRejected

ONBOARD_PATH = "/connect-sandbox/onboard/{account_id}"


class SandboxAccountItem(MarketItem, discriminator="SandboxAccount"):
    account_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    email = UnicodeAttribute()
    country = UnicodeAttribute()
    details_submitted = BooleanAttribute(default=False)
    payouts_enabled = BooleanAttribute(default=False)
    created = NumberAttribute()


class SandboxTransferItem(MarketItem, discriminator="SandboxTransfer"):
    transfer_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    destination = UnicodeAttribute()
    status = UnicodeAttribute()
    created = NumberAttribute()
    metadata = JSONAttribute(null=True)
    source_transaction = UnicodeAttribute(null=True)

    def to_transfer(self) -> Transfer:
        return Transfer(self.transfer_id, int(self.amount), self.currency, self.destination, self.status,
                        int(self.created), dict(self.metadata or {}))


class SandboxKeyItem(MarketItem, discriminator="SandboxKey"):
    """An idempotency key the sandbox has seen, with the request it was used for."""

    transfer_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()


def onboarding_token(account_id: str) -> str:
    secret = get_settings().cursor_secret.encode()
    return hmac.new(secret, f"connect-sandbox-onboard:{account_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _condition_failed(exc: PutError) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _epoch() -> int:
    return int(clock.now().timestamp())


class ConnectSandbox:
    """Accounts and transfers like Stripe Connect's, stored in our own table."""

    def create_account(self, *, partner_id: str, email: str, country: str) -> str:
        """Like Stripe with an idempotency key per partner: asking twice gives the same account."""
        account_id = "acct_sbx_" + partner_id.lower().replace("_", "")
        try:
            SandboxAccountItem(keys.sandbox_account_pk(account_id), keys.SANDBOX_SK, account_id=account_id,
                               partner_id=partner_id, email=email, country=country, created=_epoch()).save(
                condition=SandboxAccountItem.pk.does_not_exist())
        except PutError as exc:
            if not _condition_failed(exc):
                raise
        return account_id

    def onboarding_link(self, *, account_id: str, base_url: str) -> str:
        path = ONBOARD_PATH.format(account_id=account_id)
        return f"{base_url.rstrip('/')}{path}?token={onboarding_token(account_id)}"

    def complete_onboarding(self, account_id: str, token: str) -> SandboxAccountItem:
        """What the person filling in Stripe's onboarding form achieves: the account can be paid."""
        if not hmac.compare_digest(token.encode("utf-8", "surrogatepass"), onboarding_token(account_id).encode()):
            raise NotFound("No such onboarding link.")
        account = self._account(account_id)
        if account is None:
            raise NotFound("No such onboarding link.")
        account.update(actions=[SandboxAccountItem.details_submitted.set(True),
                                SandboxAccountItem.payouts_enabled.set(True)])
        return account

    def _account(self, account_id: str) -> SandboxAccountItem | None:
        try:
            return SandboxAccountItem.get(keys.sandbox_account_pk(account_id), keys.SANDBOX_SK, consistent_read=True)
        except SandboxAccountItem.DoesNotExist:
            return None

    def find_transfer(self, *, payout_id: str) -> Transfer | None:
        try:
            key = SandboxKeyItem.get(keys.sandbox_idempotency_pk(payout_id), keys.SANDBOX_SK, consistent_read=True)
        except SandboxKeyItem.DoesNotExist:
            return None
        return self._transfer(key.transfer_id)

    def transfer_by_id(self, transfer_id: str) -> Transfer | None:
        try:
            return self._transfer(transfer_id)
        except SandboxTransferItem.DoesNotExist:
            return None

    def _transfer(self, transfer_id: str) -> Transfer:
        return SandboxTransferItem.get(keys.sandbox_transfer_pk(transfer_id), keys.SANDBOX_SK,
                                       consistent_read=True).to_transfer()

    def create_transfer(self, *, payout_id: str, amount: int, currency: str, destination: str, metadata: dict,
                        source_transaction: str | None = None) -> Transfer:
        fingerprint = json.dumps([amount, currency, destination, source_transaction], separators=(",", ":"))
        account = self._account(destination)
        if account is None or not account.payouts_enabled:
            raise TransferRejected(f"The connected account {destination} cannot receive transfers yet.")
        transfer_id = "tr_sbx_" + new_id("x")[2:].lower()
        item = SandboxTransferItem(
            keys.sandbox_transfer_pk(transfer_id), keys.SANDBOX_SK, gsi1pk=keys.SANDBOX_TRANSFERS_PK,
            gsi1sk=f"{_epoch():012d}#{transfer_id}", transfer_id=transfer_id, amount=amount, currency=currency,
            destination=destination, status="paid", created=_epoch(), metadata=metadata,
            source_transaction=source_transaction,
        )
        try:
            with transaction() as tx:
                tx.save(SandboxKeyItem(keys.sandbox_idempotency_pk(payout_id), keys.SANDBOX_SK,
                                       transfer_id=transfer_id, fingerprint=fingerprint),
                        condition=SandboxKeyItem.pk.does_not_exist())
                tx.save(item)
        except Conflict:
            key = SandboxKeyItem.get(keys.sandbox_idempotency_pk(payout_id), keys.SANDBOX_SK, consistent_read=True)
            if key.fingerprint != fingerprint:
                raise Conflict("This idempotency key was used with different parameters.") from None
            return self._transfer(key.transfer_id)
        return item.to_transfer()

    def list_transfers(self, *, created_gte: int, created_lt: int) -> Iterator[list[Transfer]]:
        """Pages of at most 100 transfers created in `[created_gte, created_lt)`, oldest first."""
        start = None
        while True:
            result = SandboxTransferItem.gsi1.query(
                keys.SANDBOX_TRANSFERS_PK,
                SandboxTransferItem.gsi1sk.between(f"{created_gte:012d}", f"{created_lt - 1:012d}~"),
                limit=100, last_evaluated_key=start,
            )
            page = [row.to_transfer() for row in result]
            if page:
                yield page
            start = result.last_evaluated_key
            if not start:
                return


    def transfer_page(self, gte: int, lt: int, after: str | None) -> tuple[list[Transfer], str | None]:
        """One page (100) of transfers created in `[gte, lt)` after position `after` (a creation sort key)."""
        lo = f"{after} " if after else f"{gte:012d}"
        result = SandboxTransferItem.gsi1.query(keys.SANDBOX_TRANSFERS_PK,
                                                SandboxTransferItem.gsi1sk.between(lo, f"{lt - 1:012d}~"), limit=100)
        rows = list(result)
        return [row.to_transfer() for row in rows], (rows[-1].gsi1sk if rows and result.last_evaluated_key else None)


class LocalListing:
    """Reconciliation's listing in the local stage: localstripe for payments and refunds, the sandbox for
    transfers (localstripe has no Connect)."""

    def __init__(self, stripe, sandbox: ConnectSandbox):
        self.stripe, self.sandbox = stripe, sandbox

    def payments(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]:
        return self.stripe.payments(gte, lt)

    def refunds(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]:
        return self.stripe.refunds(gte, lt)

    def transfers(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]:
        for page in self.sandbox.list_transfers(created_gte=gte, created_lt=lt):
            yield [t.record() for t in page]

    def page(self, kind: str, gte: int, lt: int, after: str | None) -> tuple[list[StripeRecord], str | None]:
        if kind == TRANSFER:
            transfers, following = self.sandbox.transfer_page(gte, lt, after)
            return [t.record() for t in transfers], following
        return self.stripe.page(kind, gte, lt, after)

    def retrieve(self, kind: str, stripe_id: str) -> StripeRecord | None:
        if kind == TRANSFER:
            found = self.sandbox.transfer_by_id(stripe_id)
            return found and found.record()
        return self.stripe.retrieve(kind, stripe_id)
