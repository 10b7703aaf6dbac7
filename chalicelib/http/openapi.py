"""The OpenAPI 3.1 document, built from the route declarations and the schemas that validate requests."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.config import VERSION
from chalicelib.http.routing import PUBLIC, ROUTES, RouteSpec
from chalicelib.schemas.common import ERROR

_ERROR_TEXT = {
    400: "Invalid input (`validation_error`, `bad_cursor`)",
    401: "Missing or invalid token (`unauthorized`)",
    402: "The payment step failed (`payment_failed`)",
    403: "The caller lacks the role (`forbidden`)",
    404: "Not found, or not the caller's (`not_found`)",
    409: "Conflict with the current state (`conflict`, `invalid_state`, `already_owned`, `idempotency_conflict`)",
    413: "The body is larger than 256 KiB (`payload_too_large`)",
    503: "Stripe or DynamoDB failed after retries; nothing changed (`upstream_unavailable`)",
}


def _operation_id(spec: RouteSpec) -> str:
    return spec.handler_name


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    query = spec.query or {}
    required = set(query.get("required", []))
    for name, schema in query.get("properties", {}).items():
        params.append({"name": name, "in": "query", "required": name in required, "schema": schema})
    if spec.path in IDEMPOTENT_PATHS.get(spec.method, ()):
        params.append({
            "name": "Idempotency-Key", "in": "header", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        })
    if (spec.method, spec.path) == ("POST", "/webhooks/stripe"):
        params.append({
            "name": "Stripe-Signature", "in": "header", "required": True,
            "description": "`t=<unix time>,v1=<HMAC-SHA256 of '<t>.<raw body>' with the endpoint secret>`",
            "schema": {"type": "string", "minLength": 1, "maxLength": 2048},
        })
    return params


# Routes that require an Idempotency-Key header (filled in by the aggregates that own them).
IDEMPOTENT_PATHS: dict[str, set[str]] = {
    "POST": {"/orders", "/admin/orders/{order_id}/refunds", "/finance/adjustments"},
}


# Every answer names its request (API Gateway's id in AWS); a 503 says when to try again.
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


def _offers_csv(spec: RouteSpec) -> bool:
    """Routes with a `format` query parameter that allows `csv` also answer `text/csv`."""
    fmt = (spec.query or {}).get("properties", {}).get("format", {})
    return "csv" in fmt.get("enum", [])


def _responses(spec: RouteSpec) -> dict[str, Any]:
    body_schema = spec.response or {"type": "object"}
    content: dict[str, Any] = {"application/json": {"schema": body_schema}}
    if _offers_csv(spec):
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(spec.status): {"description": "Success", "content": content}}
    if spec.path in IDEMPOTENT_PATHS.get(spec.method, ()):
        # Same key and body: the first answer again, status included, marked as a replay.
        responses[str(spec.status)]["headers"] = {"Idempotent-Replayed": {
            "description": "`true` when this is the stored answer to an earlier request with the same key",
            "schema": {"type": "string", "enum": ["true"]}}}
    if spec.method == "POST" and spec.status == 201:
        # Creates are idempotent: a replay, or asking again for a thing that exists once, answers 200.
        responses["200"] = {"description": "The result of an earlier identical request", "content": content}
    codes = set(spec.errors) | {503}
    if spec.body is not None or spec.query is not None:
        codes.add(400)
    if spec.body is not None or spec.raw:
        codes.add(413)
    if spec.auth != PUBLIC:
        codes.add(401)
    if isinstance(spec.auth, tuple):
        codes.add(403)
    if spec.path.count("{"):
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    for status, response in responses.items():
        extra = _RETRY_AFTER if status == "503" else {}
        response["headers"] = {**response.get("headers", {}), **_REQUEST_ID, **extra}
    return responses


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        operation: dict[str, Any] = {
            "operationId": _operation_id(spec), "summary": spec.summary, "tags": [spec.tag],
            "parameters": _parameters(spec), "responses": _responses(spec),
        }
        if spec.auth == PUBLIC:
            operation["security"] = []
        elif isinstance(spec.auth, tuple):
            operation["description"] = f"Requires the {' or '.join(spec.auth)} group."
        if spec.body is not None:
            # A body whose fields are all optional may be left out altogether.
            operation["requestBody"] = {
                "required": bool(spec.body.get("required")),
                "content": {"application/json": {"schema": spec.body}},
            }
        elif spec.raw:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Partner Marketplace API",
            "version": VERSION,
            "description": (
                "Partners publish apps and bundles, customers buy them through Stripe, admins moderate and "
                "finance pays partners out. Money is `{amount, currency}` in integer minor units. Errors are "
                "`{error: {code, message, details, request_id}}`; every answer carries `X-Request-Id` and a "
                "503 `Retry-After`. Lists take `limit` (1..100) and an opaque `cursor`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {"Error": ERROR},
            "headers": HEADERS,
        },
    }
