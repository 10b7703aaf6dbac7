"""The OpenAPI 3.1 document, built from the route declarations and the schemas that validate requests.

Built once per process from `ROUTES`, so a new route appears with its schemas, an example request and
response (hand-written in `openapi_samples.py` for the main operations, generated from the schema by
`openapi_examples.py` for the rest), its error responses, and links from the create that returns its id.
Shared components, error responses, links and Stripe's webhooks come from `openapi_components.py`.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

from chalicelib.config import VERSION
from chalicelib.http import openapi_components as parts
from chalicelib.http.openapi_examples import example_of
from chalicelib.http.openapi_samples import EXTRA_LINKS, SAMPLES, UNLINKED
from chalicelib.http.routing import PUBLIC, ROUTES, RouteSpec

# Statuses a route answers beyond what its declaration implies, found by the fuzzer (tests/fuzz). Each
# belongs in the route's `errors=` one day; until its owner moves it there, the document says it here.
EXTRA_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    # A customer naming another customer's id gets 404 (existence is not leaked), as for any resource.
    ("GET", "/orders"): (404,),
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


def _offers_csv(spec: RouteSpec) -> bool:
    """Routes with a `format` query parameter that allows `csv` also answer `text/csv`."""
    fmt = (spec.query or {}).get("properties", {}).get("format", {})
    return "csv" in fmt.get("enum", [])


# Routes that call no backing service, so they cannot answer 503.
NO_BACKEND = {"health", "openapi_document", "docs_page", "docs_script", "list_categories"}
# Creates that answer 200 when asked again for the thing they made once (the others always answer 201,
# a replay of an idempotent write included: it repeats the first answer's status).
REPEATS_ANSWER_200 = {("POST", "/partners/me/payout-account")}


def _error_statuses(spec: RouteSpec) -> set[int]:
    """The error statuses a route can answer. Every route refuses an unknown query parameter or a body it
    does not take (400) and a body over the size limit (413), before anything else."""
    codes = set(spec.errors) | set(EXTRA_STATUSES.get((spec.method, spec.path), ())) | {400, 413}
    if spec.handler_name not in NO_BACKEND:
        codes.add(503)
    if spec.auth != PUBLIC:
        # 403 too: a partner API key on a route it has no scope for, or a token without the role.
        codes |= {401, 403}
    if spec.path.count("{"):
        codes.add(404)
    return codes


def _success_content(spec: RouteSpec) -> dict[str, Any]:
    custom = SAMPLES.get(spec.handler_name, {}).get("content")
    if custom is not None:  # a route that answers something other than JSON (the docs page)
        return custom
    schema = spec.response or {"type": "object"}
    example = SAMPLES.get(spec.handler_name, {}).get("response")
    media: dict[str, Any] = {"schema": parts.use_components(schema, root=True)}
    example = example if example is not None else example_of(schema)
    if example is not None:
        media["example"] = example
    content: dict[str, Any] = {"application/json": media}
    if _offers_csv(spec):
        content["text/csv"] = {"schema": {"type": "string"}}
    return content


def _responses(spec: RouteSpec, links: dict[str, Any]) -> dict[str, Any]:
    content = _success_content(spec)
    request_id = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
    success: dict[str, Any] = {"description": "Success", "headers": dict(request_id), "content": content}
    if spec.path in IDEMPOTENT_PATHS.get(spec.method, ()):
        # Same key and body: the first answer again, status included, marked as a replay.
        success["headers"]["Idempotent-Replayed"] = {
            "description": "`true` when this is the stored answer to an earlier request with the same key",
            "schema": {"type": "string", "enum": ["true"]}}
    responses: dict[str, Any] = {str(spec.status): success}
    if links:
        success["links"] = dict(links)
    known = {s.handler_name for s in ROUTES}
    for status, name, link in EXTRA_LINKS.get(spec.handler_name, []):
        if status in responses and link["operationId"] in known:
            responses[status].setdefault("links", {})[name] = link
    if (spec.method, spec.path) in REPEATS_ANSWER_200:
        responses["200"] = {"description": "The result of an earlier identical request", "headers": request_id,
                            "content": content}
    for code in sorted(_error_statuses(spec)):
        responses[str(code)] = {"$ref": f"#/components/responses/{parts.error_response_name(code)}"}
    return responses


def _curl(spec: RouteSpec, params: list[dict[str, Any]], body: Any) -> str:
    """A curl command for the operation, with its example values (`$API` is the base URL, `$TOKEN` a token)."""
    path = spec.path
    query = []
    for param in params:
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", str(param.get("example", param["name"])))
        elif param["in"] == "query" and param.get("required"):
            query.append(f"{param['name']}={param.get('example', '')}")
    url = "$API" + path + ("?" + "&".join(query) if query else "")
    lines = [f"curl -X {spec.method} \"{url}\""]
    if spec.auth != PUBLIC:
        lines.append('-H "Authorization: Bearer $TOKEN"')
    if spec.path in IDEMPOTENT_PATHS.get(spec.method, ()):
        lines.append('-H "Idempotency-Key: $(uuidgen)"')
    if body is not None:
        lines.append("-H 'Content-Type: application/json'")
        lines.append("-d '" + json.dumps(body, ensure_ascii=False).replace("'", "'\\''") + "'")
    return " \\\n  ".join(lines)


def _with_examples(spec: RouteSpec, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    given = SAMPLES.get(spec.handler_name, {}).get("params", {})
    for param in params:
        if param["in"] == "header":
            continue
        value = given.get(param["name"])
        if value is None and (param["in"] == "path" or param["required"]):
            value = example_of(param["schema"], param["name"])
        if value is not None:
            param["example"] = value
    return params


def _request_example(spec: RouteSpec) -> Any:
    sample = SAMPLES.get(spec.handler_name, {}).get("request")
    if sample is not None or spec.body is None:
        return sample
    return example_of(spec.body)


def _operation(spec: RouteSpec, links: dict[str, Any]) -> dict[str, Any]:
    params = _with_examples(spec, _parameters(spec))
    operation: dict[str, Any] = {
        "operationId": _operation_id(spec), "summary": spec.summary, "tags": [spec.tag],
        "parameters": params, "responses": _responses(spec, links),
    }
    description = SAMPLES.get(spec.handler_name, {}).get("description", "")
    if spec.auth == PUBLIC:
        operation["security"] = []
    elif isinstance(spec.auth, tuple):
        description = f"Requires the {' or '.join(spec.auth)} group. {description}".strip()
    scope = getattr(spec, "key_scope", None)
    if spec.auth != PUBLIC:
        description += (f" A partner API key with the `{scope}` scope may call it too." if scope else
                        " Needs a signed-in user's token: API keys get 403.")
    if description.strip():
        operation["description"] = description.strip()
    body_example = _request_example(spec)
    if spec.body is not None:
        # A body whose fields are all optional may be left out altogether.
        media: dict[str, Any] = {"schema": spec.body}
        if body_example is not None:
            media["example"] = body_example
        operation["requestBody"] = {"required": bool(spec.body.get("required")),
                                    "content": {"application/json": media}}
    elif spec.raw:
        media = {"schema": {"type": "object"}}
        if body_example is not None:
            media["example"] = body_example
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    operation["x-codeSamples"] = [{"lang": "Shell", "label": "curl", "source": _curl(spec, params, body_example)}]
    return operation


def _links() -> dict[str, dict[str, Any]]:
    return parts.links(
        ({"operation_id": _operation_id(spec), "method": spec.method, "path": spec.path, "status": spec.status,
          "response": spec.response} for spec in ROUTES),
        skip=UNLINKED,
    )


def build_document(*, server: str = "/", webhook_events: Iterable[str] = (),
                   webhook_response: dict | None = None) -> dict[str, Any]:
    """The document. `server`: the base path the API is served under (`/` locally, `/api` behind the
    API Gateway stage); `webhook_events`: the Stripe event types `POST /webhooks/stripe` acts on."""
    links = _links()
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, links.get(_operation_id(spec), {}))
        tags.setdefault(spec.tag)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Partner Marketplace API",
            "version": VERSION,
            "description": (
                "Partners publish apps and bundles, customers buy them through Stripe, admins moderate and "
                "finance pays partners out. Money is `{amount, currency}` in integer minor units. Errors are "
                "`{error: {code, message, details, request_id}}` (`code` is one of `ErrorCode`, each with "
                "its status); every answer carries `X-Request-Id` and a 503 `Retry-After`. Lists take "
                "`limit` (1..100) and an opaque `cursor`, and answer a `Page`. Calls that move money take an "
                "`Idempotency-Key` header. The reference is browsable at `docs` beside this document."
            ),
        },
        "servers": [{"url": server, "description": "This deployment (the API Gateway stage path in AWS)"}],
        "security": [{"bearer": []}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": parts.component_schemas(),
            "responses": parts.error_responses(code for spec in ROUTES for code in _error_statuses(spec)),
            "headers": parts.HEADERS,
        },
    }
    if webhook_events:
        document["webhooks"] = parts.webhooks(webhook_events, webhook_response or {"type": "object"})
        if "webhooks" not in tags:
            document["tags"].append({"name": "webhooks"})
    return document
