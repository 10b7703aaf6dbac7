"""The shared parts of the OpenAPI document: named components, error responses, links and webhooks.

Why a module of its own: `openapi.py` turns each route into an operation; this module holds what spans
routes. Shared schema fragments (`Money`, `Page`, `Error`, `ErrorCode`, `Currency`) are the very objects
the validators use, so `use_components` swaps them for `$ref`s by identity and the document stays exactly
what validates requests. Links join each create operation to every operation that takes the id it
returns, which is what lets a stateful client (or fuzzer) chain calls. Stripe's inbound events are listed
under `webhooks`: what Stripe sends to `POST /webhooks/stripe`.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from chalicelib.schemas.common import CURRENCY, ERROR, ERROR_CODE, ERROR_STATUS, MONEY, PAGE, error_for

# Shared fragments by the name they get under components/schemas.
SHARED: dict[str, dict] = {"Money": MONEY, "Currency": CURRENCY, "Page": PAGE, "Error": ERROR,
                           "ErrorCode": ERROR_CODE}
_REF_OF = {id(schema): f"#/components/schemas/{name}" for name, schema in SHARED.items()}

_STATUS_TEXT = {
    400: "Invalid input: the body, query or a header breaks its schema, or a cursor was tampered with",
    401: "Missing or invalid token",
    402: "The payment step failed; nothing was charged",
    403: "The caller lacks the role, or may not act on this resource",
    404: "Not found, or not the caller's (existence is not leaked)",
    409: "Conflict with the current state, or an idempotency key reused with another body",
    413: "The body is larger than 256 KiB",
    503: "Stripe or DynamoDB failed after retries; nothing changed. Retry after `Retry-After` seconds",
}
_REQUEST_ID = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
_RETRY_AFTER = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
HEADERS = {
    "RequestId": {
        "description": "This request's id (API Gateway's request id in AWS); also `error.request_id` and "
                       "`request_id` in every log line of the request.",
        "required": True, "schema": {"type": "string", "minLength": 1},
    },
    "RetryAfter": {
        "description": "Seconds to wait before retrying (with the same Idempotency-Key where one is needed).",
        "required": True, "schema": {"type": "integer", "minimum": 1},
    },
}
_EXAMPLE_MESSAGE = {
    400: ("The request body is not valid.", [{"field": "currency", "message": "'yen' is not one of "
                                              "['usd', 'eur', 'gbp']", "in": "body"}]),
    401: ("A valid bearer token is required.", []),
    402: ("The card was declined.", [{"decline_code": "insufficient_funds"}]),
    403: ("This route needs the admin group.", []),
    404: ("No such listing.", []),
    409: ("The listing is not in a state that allows this.", []),
    413: ("The request body is larger than 262144 bytes.", []),
    503: ("A backing service failed; nothing was changed.", []),
}


def use_components(schema: Any, *, root: bool = False) -> Any:
    """A copy of `schema` with every shared fragment replaced by its `$ref` (the root itself kept)."""
    if isinstance(schema, dict):
        if not root and id(schema) in _REF_OF:
            return {"$ref": _REF_OF[id(schema)]}
        return {key: use_components(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [use_components(value) for value in schema]
    return schema


def error_response_name(status: int) -> str:
    return f"Error{status}"


def error_responses(used: Iterable[int] = ()) -> dict[str, Any]:
    """components/responses: one per error status (those of `core.errors` and any in `used`), its `code`
    narrowed to the codes of that status."""
    found = {}
    for status in sorted({s for s in ERROR_STATUS.values() if s < 500 or s == 503} | set(used)):
        codes = [code for code, code_status in ERROR_STATUS.items() if code_status == status]
        message, details = _EXAMPLE_MESSAGE.get(status, ("The request was refused.", []))
        headers = {**_REQUEST_ID, **(_RETRY_AFTER if status == 503 else {})}
        media: dict[str, Any] = {"schema": use_components(error_for(status) if codes else ERROR)}
        if codes:
            media["example"] = {"error": {"code": codes[0], "message": message, "details": details,
                                          "request_id": "c0a8012e-5f1d-4e3a-9b7e-1d2f3a4b5c6d"}}
        found[error_response_name(status)] = {
            "description": f"{_STATUS_TEXT.get(status, 'Error')} ({', '.join(f'`{c}`' for c in codes)})",
            "headers": headers,
            "content": {"application/json": media},
        }
    return found


def component_schemas() -> dict[str, Any]:
    return {name: use_components(schema, root=True) for name, schema in SHARED.items()}


# ---- links ----------------------------------------------------------------------------------------------

def created_id(schema: dict | None) -> str | None:
    """The id a create returns for what it made: the first required `*_id` of its answer (`listing_id` of
    a listing, not the `partner_id` it also carries), else the first `*_id` property."""
    if not isinstance(schema, dict):
        return None
    for part in schema.get("allOf", []):
        found = created_id(part)
        if found:
            return found
    names = [*schema.get("required", []), *schema.get("properties", {})]
    return next((name for name in names if name.endswith("_id") and name in schema.get("properties", {})), None)


def _path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def links(operations: Iterable[dict[str, Any]], *, skip: set[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """operationId of a create -> its OpenAPI links, to every operation whose path takes the id it returns.

    `operations` are dicts with `operation_id`, `method`, `path`, `status` and `response` (its schema).
    A target's other path parameters come from the create's own path where it has the same name; a target
    that needs a value neither can give is not linked. `skip` holds (create, target) pairs that would
    mislead a client: the target does not show what the create made (e.g. the public catalog does not
    show a draft).
    """
    operations = list(operations)
    found: dict[str, dict[str, Any]] = {}
    for source in operations:
        made = created_id(source["response"]) if source["method"] == "POST" and source["status"] == 201 else None
        if made is None:
            continue
        returned = {made}
        own = set(_path_params(source["path"]))
        for target in operations:
            params = _path_params(target["path"])
            if target is source or made not in params or (source["operation_id"], target["operation_id"]) in skip:
                continue
            if not all(p in returned or p in own for p in params):
                continue
            values = {p: f"$response.body#/{p}" if p in returned else f"$request.path.{p}" for p in params}
            found.setdefault(source["operation_id"], {})[target["operation_id"]] = {
                "operationId": target["operation_id"],
                "parameters": {f"path.{p}": value for p, value in values.items()},
                "description": f"`{target['method']} {target['path']}` with the "
                               + ", ".join(f"`{p}`" for p in params if p in returned) + " this call returned.",
            }
    return found


# ---- webhooks: what Stripe sends to POST /webhooks/stripe ----------------------------------------------

_STRIPE_OBJECT = {
    "payment_intent": ("PaymentIntent", "pi_3Qh8Zr2eZvKYlo2C", {"status": {"type": "string"}, "amount": {
        "type": "integer"}, "currency": {"type": "string"}, "metadata": {"type": "object"}}),
    "charge": ("Charge", "ch_3Qh8Zr2eZvKYlo2C", {"amount_refunded": {"type": "integer"},
                                                 "payment_intent": {"type": ["string", "null"]}}),
    "dispute": ("Dispute", "dp_1Qh8Zr2eZvKYlo2C", {"status": {"type": "string"}, "charge": {"type": "string"}}),
    "account": ("Account", "acct_1Qh8Zr2eZvKYlo2C", {"payouts_enabled": {"type": "boolean"},
                                                     "charges_enabled": {"type": "boolean"},
                                                     "details_submitted": {"type": "boolean"}}),
}
_WHAT_WE_DO = {
    "payment_intent": "The order's payment is re-read from Stripe and the order marked paid or failed "
                      "(entitlements and the sale's journal entry are written with it).",
    "charge": "The charge is re-read from Stripe; a refund made in Stripe's dashboard is recorded as a refund.",
    "dispute": "The dispute is re-read from Stripe and recorded against the order.",
    "account": "The partner's payout account flags (`payouts_enabled`, ...) are updated.",
}


def _object_kind(event_type: str) -> str:
    head = event_type.split(".")[0]
    return "dispute" if event_type.startswith("charge.dispute.") else head


def webhooks(event_types: Iterable[str], response: dict) -> dict[str, Any]:
    """OpenAPI `webhooks`: one entry per Stripe event type the API acts on."""
    found = {}
    for event_type in sorted(event_types):
        kind = _object_kind(event_type)
        title, example_id, fields = _STRIPE_OBJECT.get(kind, ("object", "obj_1", {}))
        schema = {
            "type": "object", "required": ["id", "type", "data"],
            "properties": {
                "id": {"type": "string"}, "object": {"const": "event"}, "type": {"const": event_type},
                "created": {"type": "integer"}, "livemode": {"type": "boolean"},
                "data": {"type": "object", "required": ["object"], "properties": {"object": {
                    "type": "object", "required": ["id"], "title": f"Stripe {title}",
                    "properties": {"id": {"type": "string"}, **fields}}}},
            },
        }
        example = {"id": "evt_1Qh8Zr2eZvKYlo2C", "object": "event", "type": event_type, "created": 1795000000,
                   "livemode": False, "data": {"object": {"id": example_id}}}
        found[event_type] = {"post": {
            "operationId": "stripe_event_" + re.sub(r"\W", "_", event_type),
            "summary": f"Stripe sends `{event_type}`",
            "description": "Delivered by Stripe to `POST /webhooks/stripe`, signed with the endpoint secret "
                           "(`Stripe-Signature`). Applied once per event id; a duplicate is acknowledged "
                           "with `outcome: duplicate`. " + _WHAT_WE_DO.get(kind, ""),
            "tags": ["webhooks"],
            "security": [],
            "parameters": [{"name": "Stripe-Signature", "in": "header", "required": True,
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema,
                                                                              "example": example}}},
            "responses": {
                "200": {"description": "Received (applied, duplicate or ignored)", "content": {
                    "application/json": {"schema": response, "example": {
                        "received": True, "event_id": example["id"], "type": event_type, "outcome": "applied"}}}},
                "400": {"$ref": "#/components/responses/Error400"},
            },
        }}
    return found
