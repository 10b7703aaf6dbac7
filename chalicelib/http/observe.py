"""The edge of every HTTP invocation: its request id, one log line, its latency metric, metrics flushed.

Registered in `app.py` as Chalice `http` middleware, so it wraps every answer the app gives, Chalice's
own (415, 405) included:
- the request id is API Gateway's (`requestContext.requestId`) or, where there is none (`chalice local`,
  `chalice.test`), a fresh UUID; it is the `X-Request-Id` header, `error.request_id` in error bodies and
  `request_id` in every log line the request writes;
- a 503 carries `Retry-After` (seconds);
- Chalice's own error bodies (`{"Code", "Message"}`) are rewritten into the contract's error shape;
- one line per request: level, route, status, latency, the kind of caller (set by the routing pipeline),
  and for a 5xx its cause;
- `RouteLatency` for the route, then the invocation's business metrics, as EMF lines.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable

from chalice import Response

from chalicelib.http.routing import internal_error_body
from chalicelib.telemetry import logs, metrics

REQUEST_ID_HEADER = "X-Request-Id"
RETRY_AFTER_SECONDS = 2  # DynamoDB throttling and Stripe blips clear within seconds; a client need not wait longer

log = logs.get("marketplace.http")


def request_id_of(request: Any) -> str:
    """API Gateway's id for this request, or a new one where nothing assigned one."""
    context = getattr(request, "context", None) or {}
    found = context.get("requestId") if isinstance(context, dict) else None
    return found if isinstance(found, str) and found else logs.new_request_id()


def _route_of(request: Any) -> str:
    context = getattr(request, "context", None) or {}
    method = getattr(request, "method", None) or context.get("httpMethod") or "?"
    return f"{method} {context.get('resourcePath') or getattr(request, 'path', None) or '?'}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _contract_shape(response: Response, request_id: str) -> None:
    """Chalice's own error answers (`{"Code": ..., "Message": ...}`) in the contract's error shape."""
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = "internal_error" if response.status_code >= 500 else _snake(str(body["Code"]))
        response.body = {"error": {"code": code, "message": str(body["Message"]), "details": [],
                                   "request_id": request_id}}
        response.headers["Content-Type"] = "application/json"


def http_middleware(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice `http` middleware: see the module docstring."""
    started = time.perf_counter()
    request_id = request_id_of(request)
    route = _route_of(request)
    logs.begin(request_id, route=route, principal="anonymous")
    try:
        try:
            response = get_response(request)
        except Exception as exc:  # noqa: BLE001 - answer in the contract's shape, with the id, and say why
            logs.annotate(cause=repr(exc)[:500])
            log.exception("unhandled error on %s", route)
            response = Response(body=internal_error_body(), status_code=500,
                                headers={"Content-Type": "application/json"})
        _contract_shape(response, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        if response.status_code == 503:
            response.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        latency_ms = (time.perf_counter() - started) * 1000
        (log.error if response.status_code >= 500 else log.info)(
            "%s %s %.1f ms", route, response.status_code, latency_ms,
            extra={"status": response.status_code, "latency_ms": round(latency_ms, 1)})
        metrics.route_latency(route, latency_ms)
        metrics.flush()
        return response
    finally:
        logs.end()
