"""StripeConnect: Stripe Connect and Stripe's list endpoints for payouts and reconciliation (AWS stages).

The second module that imports `stripe` (lazily, inside methods), next to the checkout's
`payments/stripe_gateway.py`: it covers what checkout does not need, namely Express accounts,
onboarding links, transfers and the paged listings of payment intents, refunds and transfers that
reconciliation reads. Every call passes literal `params={...}` so stripe's typed parameters check
them; transfers carry `destination`, `transfer_group` = payout id, metadata, `source_transaction` when
the payout is linked to one charge, and the payout id as idempotency key. Stripe errors become domain
errors: a refusal is `TransferRejected`, anything we cannot be sure about is `UpstreamUnavailable`.

Deadlines: Stripe's SDK waits 80 s per attempt by default. Each client here gets the connect and read
timeouts and the retries of the running context's budget (`core.deadlines`): the API's (2 s / 6 s, one
retry) for the payout-account routes, the job's (3 s / 15 s, two retries) inside the scheduled payout
run. One client is kept per budget, so the same adapter serves both contexts.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from chalicelib.config import CallBudget
from chalicelib.core import deadlines
from chalicelib.core.errors import Conflict, UpstreamUnavailable
from chalicelib.payouts.gateway import PAYMENT, REFUND, TRANSFER, StripeRecord, Transfer, TransferRejected

PAGE = 100


def _get(obj: Any, name: str, default: Any = None) -> Any:
    try:
        value = obj[name]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _plain(value: Any) -> dict[str, Any]:
    """A plain dict of a nested Stripe hash: stripe 16 objects are not mappings, `dict()` on one raises."""
    if value is None:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def _transfer(obj: Any) -> Transfer:
    reversed_ = bool(_get(obj, "reversed", False))
    return Transfer(str(obj["id"]), int(obj["amount"]), str(obj["currency"]), str(_get(obj, "destination", "")),
                    "reversed" if reversed_ else "paid", int(_get(obj, "created", 0)),
                    _plain(_get(obj, "metadata")))


class StripeConnect:
    """Connect accounts, transfers and listings through `stripe.StripeClient`."""

    def __init__(self, client_factory: Callable[[CallBudget], Any], *, created_filter: bool = True):
        self._factory = client_factory
        self._clients: dict[CallBudget, Any] = {}
        # localstripe refuses `created` on lists; there the period is cut on our side (reconciliation does).
        self._created_filter = created_filter

    @classmethod
    def from_settings(cls, *, http_client: Any = None, api_key: str | None = None,
                      created_filter: bool = True) -> "StripeConnect":
        def build(budget: CallBudget) -> Any:
            import stripe

            from chalicelib.config import get_settings
            from chalicelib.secrets import get_stripe_secrets

            settings = get_settings()
            kwargs: dict[str, Any] = {
                "max_network_retries": budget.retries,
                # requests' (connect, read) timeouts; an injected client (tests) brings its own.
                "http_client": http_client or stripe.RequestsClient(
                    timeout=(budget.connect_seconds, budget.read_seconds)),
            }
            if settings.stripe_api_base:
                kwargs["base_addresses"] = {"api": settings.stripe_api_base}
            return stripe.StripeClient(api_key or get_stripe_secrets().secret_key, **kwargs)

        return cls(build, created_filter=created_filter)

    @property
    def client(self) -> Any:
        """The client for the running context's budget, built on first use."""
        budget = deadlines.current().stripe
        if budget not in self._clients:
            self._clients[budget] = self._factory(budget)
        return self._clients[budget]

    def _call(self, fn: Callable[[], Any], *, refusal: type[Exception] = TransferRejected) -> Any:
        import stripe

        try:
            return fn()
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise UpstreamUnavailable("Stripe could not be reached; nothing was changed on our side.") from exc
        except stripe.IdempotencyError as exc:
            raise Conflict("Stripe saw this idempotency key with other parameters.") from exc
        except (stripe.InvalidRequestError, stripe.PermissionError, stripe.CardError) as exc:
            raise refusal(f"Stripe refused the request: {exc.user_message or exc.code or 'invalid request'}.") from exc
        except stripe.StripeError as exc:
            raise UpstreamUnavailable("Stripe failed; nothing was changed on our side.") from exc

    # --- accounts -------------------------------------------------------------------------------
    def create_account(self, *, partner_id: str, email: str, country: str) -> str:
        account = self._call(lambda: self.client.v1.accounts.create(
            params={
                "type": "express", "country": country, "email": email,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"partner_id": partner_id},
            },
            options={"idempotency_key": f"connect-account-{partner_id}"},
        ), refusal=UpstreamUnavailable)
        return str(account["id"])

    def onboarding_link(self, *, account_id: str, base_url: str) -> str:
        link = self._call(lambda: self.client.v1.account_links.create(params={
            "account": account_id, "type": "account_onboarding",
            "refresh_url": f"{base_url.rstrip('/')}/partners/me/payout-account/refresh",
            "return_url": f"{base_url.rstrip('/')}/partners/me",
        }), refusal=UpstreamUnavailable)
        return str(link["url"])

    # --- transfers ------------------------------------------------------------------------------
    def find_transfer(self, *, payout_id: str) -> Transfer | None:
        """The transfer of a payout, if one was made (idempotency keys expire after 24 h; this does not)."""
        page = self._call(lambda: self.client.v1.transfers.list(params={"transfer_group": payout_id, "limit": 1}),
                          refusal=UpstreamUnavailable)
        data = list(_get(page, "data", []))
        return _transfer(data[0]) if data else None

    def create_transfer(self, *, payout_id: str, amount: int, currency: str, destination: str, metadata: dict[str, str],
                        source_transaction: str | None = None) -> Transfer:
        def send() -> Any:
            if source_transaction:
                return self.client.v1.transfers.create(
                    params={"amount": amount, "currency": currency, "destination": destination,
                            "transfer_group": payout_id, "metadata": metadata,
                            "source_transaction": source_transaction},
                    options={"idempotency_key": payout_id},
                )
            return self.client.v1.transfers.create(
                params={"amount": amount, "currency": currency, "destination": destination,
                        "transfer_group": payout_id, "metadata": metadata},
                options={"idempotency_key": payout_id},
            )

        return _transfer(self._call(send))

    def list_transfers(self, *, created_gte: int, created_lt: int) -> Iterator[list[Transfer]]:
        for page in self._pages(lambda params: self.client.v1.transfers.list(params=params), created_gte, created_lt):
            yield [_transfer(obj) for obj in page]

    # --- listings for reconciliation --------------------------------------------------------------
    def _pages(self, list_fn: Callable[[dict[str, Any]], Any], gte: int, lt: int) -> Iterator[list[Any]]:
        """Stripe's list pages, one at a time (`starting_after`), so memory holds one page."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if self._created_filter:
                params["created"] = {"gte": gte, "lt": lt}
            if after:
                params["starting_after"] = after
            page = self._call(lambda: list_fn(params), refusal=UpstreamUnavailable)
            data = list(_get(page, "data", []))
            if data:
                yield data
            if not data or not _get(page, "has_more", False):
                return
            after = str(data[-1]["id"])

    def page(self, kind: str, gte: int, lt: int, after: str | None) -> tuple[list[StripeRecord], str | None]:
        """One list page (100) of `kind` created in `[gte, lt)` after object `after`; and where the next starts
        (None: this was the last). A reconciliation job reads one such page per step."""
        lists = {PAYMENT: self.client.v1.payment_intents.list, REFUND: self.client.v1.refunds.list,
                 TRANSFER: self.client.v1.transfers.list}
        params: dict[str, Any] = {"limit": PAGE}
        if self._created_filter:
            params["created"] = {"gte": gte, "lt": lt}
        if after:
            params["starting_after"] = after
        found = self._call(lambda: lists[kind](params=params), refusal=UpstreamUnavailable)
        data = list(_get(found, "data", []))
        more = bool(data) and bool(_get(found, "has_more", False))
        return [self._record(kind, o) for o in data], (str(data[-1]["id"]) if more else None)

    @staticmethod
    def _record(kind: str, o: Any) -> StripeRecord:
        if kind == TRANSFER:
            return _transfer(o).record()
        amount = int(_get(o, "amount_received", 0) or _get(o, "amount", 0)) if kind == PAYMENT else int(o["amount"])
        return StripeRecord(kind, str(o["id"]), amount, str(o["currency"]), str(o["status"]), int(_get(o, "created", 0)))

    def payments(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]:
        for page in self._pages(lambda p: self.client.v1.payment_intents.list(params=p), gte, lt):
            yield [StripeRecord(PAYMENT, str(o["id"]), int(_get(o, "amount_received", 0) or _get(o, "amount", 0)),
                                str(o["currency"]), str(o["status"]), int(_get(o, "created", 0))) for o in page]

    def refunds(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]:
        for page in self._pages(lambda p: self.client.v1.refunds.list(params=p), gte, lt):
            yield [StripeRecord(REFUND, str(o["id"]), int(o["amount"]), str(o["currency"]), str(o["status"]),
                                int(_get(o, "created", 0))) for o in page]

    def transfers(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]:
        for page in self.list_transfers(created_gte=gte, created_lt=lt):
            yield [t.record() for t in page]

    def retrieve(self, kind: str, stripe_id: str) -> StripeRecord | None:
        """One object by id (for ledger records the period's listing did not show); None if Stripe has none."""
        getters = {PAYMENT: self.client.v1.payment_intents.retrieve, REFUND: self.client.v1.refunds.retrieve,
                   TRANSFER: self.client.v1.transfers.retrieve}
        try:
            o = self._call(lambda: getters[kind](stripe_id), refusal=_NotThere)
        except _NotThere:
            return None
        if kind == TRANSFER:
            return _transfer(o).record()
        amount = int(_get(o, "amount_received", 0) or _get(o, "amount", 0)) if kind == PAYMENT else int(o["amount"])
        return StripeRecord(kind, str(o["id"]), amount, str(o["currency"]), str(o["status"]), int(_get(o, "created", 0)))


class _NotThere(Exception):
    def __init__(self, message: str = ""):
        super().__init__(message)
