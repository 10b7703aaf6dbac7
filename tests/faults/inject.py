"""Fault injection for the money paths: DynamoDB errors by operation and call number, and a scripted Stripe.

DynamoDB: both boto3 and pynamodb end in botocore's `BaseClient._make_api_call`; `DdbFaults` wraps it
and raises a real `ClientError` (throttling, or a `TransactionCanceledException` whose reasons are
`TransactionConflict`) for the Nth call of one operation. The wrapper sits above botocore's own retry
loop, so an injected error is what the app sees once botocore has given up: the "after retries" case.

Stripe: `StripeHttpStub` is a `stripe.HTTPClient`, so the real adapters (`StripeGateway`,
`StripeConnect`) run unchanged on top of it: their own retries (the SDK resends with the same
Idempotency-Key) and their own error mapping are what is under test. Behind the stub is a small Stripe
that keeps what matters here: PaymentIntents, refunds (no over-refund), charges, transfers (listable by
`transfer_group`), and idempotency keys that replay the first answer. Faults are scripted per request:
a 500, a 429, a timeout, a card decline (402) or a refusal (400), optionally *after* the effect took
place (Stripe did it, the answer was lost), which is the case that could move money twice.

`table_rows()` reads the whole table with a Scan that bypasses the call recorder (`tests/ddb_calls.py`),
so tests can compare the table before and after a failed request without tripping the Scan guard.
"""
from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import botocore.client
from botocore.exceptions import ClientError

from tests import ddb_calls

# --- DynamoDB -------------------------------------------------------------------------------------
THROTTLING = "ProvisionedThroughputExceededException"
THROTTLING_EXCEPTION = "ThrottlingException"
TRANSACTION_CONFLICT = "TransactionConflict"  # a TransactionCanceledException with these reasons


def ddb_error(code: str, operation: str, api_params: dict) -> ClientError:
    """The ClientError botocore raises for `code` (TransactionConflict gives DynamoDB's cancellation shape)."""
    if code == TRANSACTION_CONFLICT:
        items = api_params.get("TransactItems") or [{}]
        reasons = [{"Code": "TransactionConflict",
                    "Message": "Transaction is ongoing for the item"}] + [{"Code": "None"}] * (len(items) - 1)
        response = {"Error": {"Code": "TransactionCanceledException",
                              "Message": "Transaction cancelled, please refer cancellation reasons for specific "
                                         "reasons [TransactionConflict" + ", None" * (len(items) - 1) + "]"},
                    "CancellationReasons": reasons,
                    "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}}
        return ClientError(response, operation)
    message = {THROTTLING: "The level of configured provisioned throughput for the table was exceeded.",
               THROTTLING_EXCEPTION: "Rate of requests exceeds the allowed throughput."}.get(code, code)
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}}, operation)


@dataclass
class _Rule:
    operation: str
    nth: int
    code: str
    times: int
    fired: int = 0


class DdbFaults:
    """Raise `code` on the `nth` (1-based) call of `operation`, `times` times in a row (then let calls pass).

    Use as a context manager; `seen` counts the DynamoDB operations made while active, to enumerate a
    route's call sites.
    """

    def __init__(self) -> None:
        self.rules: list[_Rule] = []
        self.seen: list[str] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._previous: Any = None

    def fail(self, operation: str, *, nth: int = 1, code: str = THROTTLING, times: int = 1) -> "DdbFaults":
        self.rules.append(_Rule(operation, nth, code, times))
        return self

    @property
    def fired(self) -> int:
        return sum(rule.fired for rule in self.rules)

    def __enter__(self) -> "DdbFaults":
        previous = self._previous = botocore.client.BaseClient._make_api_call
        faults = self

        def injected(client, operation_name, api_params):
            if client.meta.service_model.service_name == "dynamodb":
                with faults._lock:
                    faults.seen.append(operation_name)
                    count = faults._counts[operation_name] = faults._counts.get(operation_name, 0) + 1
                    for rule in faults.rules:
                        if rule.operation == operation_name and rule.nth <= count < rule.nth + rule.times:
                            rule.fired += 1
                            raise ddb_error(rule.code, operation_name, api_params)
            return previous(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = injected
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._previous


def table_rows() -> dict[tuple[str, str], dict]:
    """Every row of the table by (pk, sk), read without passing through the call recorder or injector."""
    from chalicelib.db.table import MarketItem, connection

    client = connection().client  # the app's own botocore client: building another costs ~0.5 s
    rows: dict[tuple[str, str], dict] = {}
    params: dict[str, Any] = {"TableName": MarketItem.Meta.table_name, "ConsistentRead": True}
    while True:
        page = ddb_calls._original(client, "Scan", params)
        for item in page.get("Items", []):
            rows[(item["pk"]["S"], item["sk"]["S"])] = item
        if not page.get("LastEvaluatedKey"):
            return rows
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def rows_of_kind(rows: dict, kind: str) -> list[dict]:
    return [r for r in rows.values() if r.get("kind", {}).get("S") == kind]


def diff(before: dict, after: dict) -> dict[str, list]:
    """What changed between two `table_rows()` snapshots (for readable assertion messages)."""
    return {
        "added": sorted(k for k in after if k not in before),
        "removed": sorted(k for k in before if k not in after),
        "changed": sorted(k for k in after if k in before and after[k] != before[k]),
    }


# --- Stripe ---------------------------------------------------------------------------------------
FAULT_500 = "500"
FAULT_429 = "429"
FAULT_TIMEOUT = "timeout"
FAULT_DECLINE = "decline"  # 402 card_error
FAULT_REFUSED = "refused"  # 400 invalid_request_error (e.g. insufficient platform balance)


@dataclass
class _StripeRule:
    method: str
    path: str  # a prefix of the request path, e.g. "/v1/refunds"
    kind: str
    times: int
    after_effect: bool
    fired: int = 0


@dataclass
class StripeRequest:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    answered: int | str  # the status code, or "timeout"


@dataclass
class StubState:
    intents: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    transfers: dict[str, dict] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)


def _stripe_http_client_base():
    import stripe

    return stripe.HTTPClient


class StripeHttpStub(_stripe_http_client_base()):  # type: ignore[misc]
    """A `stripe.HTTPClient` answering from a small in-memory Stripe, with scripted faults."""

    name = "fault-stub"

    def __init__(self) -> None:
        super().__init__()
        self.state = StubState()
        self.rules: list[_StripeRule] = []
        self.requests: list[StripeRequest] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # The SDK's backoff sleeps 0.5 s and more between retries: the retries are kept, the waiting is not.
    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.0

    def close(self) -> None:
        return None

    # --- scripting --------------------------------------------------------------------------------
    def fail(self, method: str, path: str, kind: str, *, times: int = 1, after_effect: bool = False) -> None:
        self.rules.append(_StripeRule(method.upper(), path, kind, times, after_effect))

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method.upper() and r.path.startswith(path))

    def succeed(self, pi_id: str) -> dict:
        intent = self.state.intents[pi_id]
        intent.update(status="succeeded", latest_charge=f"ch_{pi_id[3:]}", last_payment_error=None)
        return intent

    def decline(self, pi_id: str, code: str = "card_declined") -> dict:
        intent = self.state.intents[pi_id]
        intent.update(status="requires_payment_method",
                      last_payment_error={"type": "card_error", "code": code, "decline_code": "generic_decline",
                                          "message": "Your card was declined."})
        return intent

    def refund_in_dashboard(self, pi_id: str, amount: int) -> dict:
        """A refund made outside the marketplace (no metadata of ours); Stripe then sends `charge.refunded`."""
        with self._lock:
            refund, status = self._route("POST", "/v1/refunds", {"payment_intent": pi_id, "amount": str(amount)})
        assert status == 200, refund
        return refund

    def charge_of(self, pi_id: str) -> str:
        return self.state.intents[pi_id]["latest_charge"]

    def refunded_total(self, pi_id: str) -> int:
        return sum(r["amount"] for r in self.state.refunds.values() if r["payment_intent"] == pi_id)

    # --- HTTPClient -------------------------------------------------------------------------------
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        import stripe

        method = method.upper()
        parts = urlsplit(url)
        path = parts.path
        params = dict(parse_qsl(post_data or "", keep_blank_values=True))
        params.update(parse_qsl(parts.query, keep_blank_values=True))
        key = None
        for name, value in (headers or {}).items():
            if name.lower() == "idempotency-key":
                key = value
        with self._lock:
            rule = next((r for r in self.rules if r.fired < r.times and r.method == method
                         and path.startswith(r.path)), None)
            if rule is not None:
                rule.fired += 1
                if rule.after_effect:
                    self._answer(method, path, params, key)
                record = StripeRequest(method, path, params, key, rule.kind if rule.kind == FAULT_TIMEOUT else 0)
                self.requests.append(record)
                if rule.kind == FAULT_TIMEOUT:
                    raise stripe.APIConnectionError(
                        "Request to Stripe timed out (stub).", should_retry=True)
                body, status = self._fault_body(rule.kind)
                record.answered = status
                return body, status, {"Request-Id": f"req_stub{next(self._ids)}"}
            body, status = self._answer(method, path, params, key)
            self.requests.append(StripeRequest(method, path, params, key, status))
            return body, status, {"Request-Id": f"req_stub{next(self._ids)}"}

    @staticmethod
    def _fault_body(kind: str) -> tuple[str, int]:
        if kind == FAULT_500:
            return json.dumps({"error": {"type": "api_error", "message": "Something went wrong (stub)."}}), 500
        if kind == FAULT_429:
            return json.dumps({"error": {"type": "invalid_request_error", "code": "rate_limit",
                                         "message": "Too many requests (stub)."}}), 429
        if kind == FAULT_DECLINE:
            return json.dumps({"error": {"type": "card_error", "code": "card_declined",
                                         "decline_code": "generic_decline",
                                         "message": "Your card was declined."}}), 402
        if kind == FAULT_REFUSED:
            return json.dumps({"error": {"type": "invalid_request_error", "code": "balance_insufficient",
                                         "message": "Insufficient funds in the Stripe account."}}), 400
        raise ValueError(kind)

    # --- the small Stripe -------------------------------------------------------------------------
    def _answer(self, method: str, path: str, params: dict, key: str | None) -> tuple[str, int]:
        if method == "POST" and key is not None and (path, key) in self.state.idempotent:
            return self.state.idempotent[(path, key)]
        body, status = self._route(method, path, params)
        answer = (json.dumps(body), status)
        if method == "POST" and key is not None and status < 500:
            self.state.idempotent[(path, key)] = answer
        return answer

    @staticmethod
    def _error(status: int, message: str, code: str = "resource_missing") -> tuple[dict, int]:
        return {"error": {"type": "invalid_request_error", "code": code, "message": message}}, status

    @staticmethod
    def _metadata(params: dict) -> dict:
        return {k[len("metadata["):-1]: v for k, v in params.items() if k.startswith("metadata[")}

    def _route(self, method: str, path: str, params: dict) -> tuple[dict, int]:
        segments = path.strip("/").split("/")[1:]  # drop "v1"
        state = self.state
        if segments == ["payment_intents"] and method == "POST":
            pi_id = f"pi_stub{next(self._ids):06d}"
            intent = {"id": pi_id, "object": "payment_intent", "status": "requires_payment_method",
                      "amount": int(params["amount"]), "currency": params["currency"],
                      "metadata": self._metadata(params), "client_secret": f"{pi_id}_secret_stub",
                      "latest_charge": None, "last_payment_error": None}
            state.intents[pi_id] = intent
            return intent, 200
        if segments[:1] == ["payment_intents"] and len(segments) >= 2:
            intent = state.intents.get(segments[1])
            if intent is None:
                return self._error(404, "No such payment_intent")
            if len(segments) == 3 and segments[2] == "cancel":
                intent["status"] = "canceled"
            return intent, 200
        if segments == ["refunds"] and method == "POST":
            intent = state.intents.get(params.get("payment_intent", ""))
            if intent is None or intent["status"] != "succeeded":
                return self._error(400, "This PaymentIntent has no successful charge.", "charge_not_succeeded")
            amount = int(params.get("amount") or intent["amount"] - self.refunded_total(intent["id"]))
            if self.refunded_total(intent["id"]) + amount > intent["amount"]:
                return self._error(400, "Refund amount is greater than unrefunded amount.", "amount_too_large")
            refund = {"id": f"re_stub{next(self._ids):06d}", "object": "refund", "amount": amount,
                      "currency": intent["currency"], "status": "succeeded", "payment_intent": intent["id"],
                      "charge": intent["latest_charge"], "metadata": self._metadata(params)}
            state.refunds[refund["id"]] = refund
            return refund, 200
        if segments[:1] == ["charges"] and len(segments) == 2:
            intent = next((i for i in state.intents.values() if i["latest_charge"] == segments[1]), None)
            if intent is None:
                return self._error(404, "No such charge")
            refunds = [r for r in state.refunds.values() if r["payment_intent"] == intent["id"]]
            return {"id": segments[1], "object": "charge", "payment_intent": intent["id"],
                    "amount": intent["amount"], "amount_refunded": sum(r["amount"] for r in refunds),
                    "currency": intent["currency"],
                    "refunds": {"object": "list", "data": refunds, "has_more": False}}, 200
        if segments == ["transfers"] and method == "POST":
            transfer = {"id": f"tr_stub{next(self._ids):06d}", "object": "transfer", "amount": int(params["amount"]),
                        "currency": params["currency"], "destination": params["destination"],
                        "transfer_group": params.get("transfer_group"), "reversed": False,
                        "created": 1_700_000_000 + len(state.transfers), "metadata": self._metadata(params)}
            state.transfers[transfer["id"]] = transfer
            return transfer, 200
        if segments == ["transfers"] and method == "GET":
            group = params.get("transfer_group")
            data = [t for t in state.transfers.values() if group is None or t["transfer_group"] == group]
            limit = int(params.get("limit") or 10)
            return {"object": "list", "data": data[:limit], "has_more": len(data) > limit,
                    "url": "/v1/transfers"}, 200
        return self._error(404, f"The stub does not serve {method} {path}", "unsupported")
