"""Route declaration: one decorator that registers a Chalice route and its contract.

`Router.route` wraps a handler so that every route, in the same order, checks the body size (413),
refuses input no store can hold (a lone surrogate, nesting deeper than 64: 400), authenticates and
checks roles (401/403), parses JSON (400), validates body and query against their JSON Schemas (400
`validation_error`), calls the handler with a `Request`, and maps domain errors to the contract's error
shape, which carries the request's id. A 5xx logs its cause; the request's log lines name the kind of
caller (`http/observe.py` writes the one line per request). A partner API key may call only a route
declared with a `key_scope` it holds (403 otherwise, before any input is read); each use is logged
with its `key_id` and handed to the key port to audit. The same declaration feeds `/openapi.json`,
so the document cannot drift from the routes. Handlers stay thin: parse, call one service function,
return a dict.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from chalice import Blueprint, Response

from chalicelib.config import get_settings
from chalicelib.core.errors import DomainError, Forbidden, PayloadTooLarge, UpstreamUnavailable, ValidationFailed
from chalicelib.core.identity import Principal, key_port
from chalicelib.http.auth import authenticate, require_roles
from chalicelib.http.validation import check_storable, coerce_query, validate
from chalicelib.telemetry import logs

log = logs.get()

PUBLIC = "public"  # no token needed
SIGNED_IN = "signed_in"  # any valid token; roles or storage decide the rest


@dataclass
class RouteSpec:
    path: str
    method: str
    handler_name: str
    summary: str
    auth: str | tuple[str, ...]
    body: dict | None
    query: dict | None
    status: int
    response: dict | None
    tag: str
    errors: tuple[int, ...]
    raw: bool = False
    key_scope: str | None = None  # the API-key scope that may call this route; None: keys get 403


@dataclass
class Request:
    """What a handler gets: the caller, validated input and the raw request pieces."""

    principal: Principal | None
    params: dict[str, str]
    body: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, str]
    raw_body: bytes = b""

    @property
    def user(self) -> Principal:
        assert self.principal is not None, "route declared without auth"
        return self.principal


@dataclass
class Reply:
    """A handler result that needs a status or headers other than the route's default."""

    body: Any
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


ROUTES: list[RouteSpec] = []


def error_body(err: DomainError) -> dict:
    return {"error": {"code": err.code, "message": err.message, "details": err.details,
                      "request_id": logs.request_id()}}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_response(err: DomainError) -> Response:
    return json_response(err.status, error_body(err))


def _json_number(text: str) -> int | float:
    """A JSON number written with a fraction or exponent: `364.0` and `1e3` are the integers they equal.

    JSON has one number type and JSON Schema's `integer` admits 364.0, so without this an amount sent as
    364.0 would pass validation and reach money code as a float. Integral values become exact ints
    (read through Decimal, so 12345678901234567.0 stays exact); the rest stay floats and fail `integer`.
    """
    from decimal import Decimal, InvalidOperation

    try:
        exact = Decimal(text)
        if exact.is_finite() and exact == exact.to_integral_value():
            return int(exact)
    except (InvalidOperation, ValueError, OverflowError):
        pass
    return float(text)


def _parse_json(raw: bytes) -> Any:
    if not raw or not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8"), parse_float=_json_number)
    except RecursionError as exc:
        raise ValidationFailed("The request body is not valid: it is nested too deeply.", [
            {"field": "(body)", "message": "is nested deeper than 64 levels", "in": "body"}]) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(
            "The request body is not valid JSON.", [{"field": "(body)", "message": str(exc)[:200], "in": "body"}]
        ) from exc


def principal_kind(spec: RouteSpec, principal: Principal | None) -> str:
    """What kind of caller this is, for the logs (never who: no subject, token or e-mail)."""
    if principal is None:
        return "anonymous"
    if principal.is_key:
        return "api_key"
    if isinstance(spec.auth, tuple):
        return next((role for role in spec.auth if role in principal.groups), "customer")
    if spec.path.startswith("/partner/"):
        return "partner"
    return "admin" if principal.is_admin else "finance" if principal.is_finance else "customer"


def _identify(spec: RouteSpec, headers: dict[str, str], callers: list[Principal]) -> Principal | None:
    if spec.auth == PUBLIC:
        return None
    principal = authenticate(headers.get("authorization"))
    callers.append(principal)
    logs.annotate(principal=principal_kind(spec, principal))
    if principal.is_key:
        logs.annotate(key_id=principal.key_id)
        if spec.key_scope is None:
            raise Forbidden("API keys cannot call this route: it needs a signed-in user's token.")
        if spec.key_scope not in principal.scopes:
            raise Forbidden(f"This API key lacks the '{spec.key_scope}' scope this route needs.")
    if isinstance(spec.auth, tuple):
        require_roles(principal, spec.auth)
    return principal


def _build_request(spec: RouteSpec, current, params: dict[str, str], callers: list[Principal]) -> Request:
    raw = current.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The request body is larger than {get_settings().max_body_bytes} bytes.")
    headers = {k.lower(): v for k, v in (current.headers or {}).items()}
    check_storable(headers, where="header")
    check_storable(params, where="path")
    query_raw = dict(current.query_params or {})
    check_storable(query_raw, where="query")
    principal = _identify(spec, headers, callers)
    query: dict[str, Any] = {}
    if spec.query is not None:
        query = coerce_query(spec.query, query_raw)
        validate(spec.query, query, where="query")
    elif query_raw:
        names = ", ".join(sorted(query_raw))
        raise ValidationFailed(
            f"This route takes no query parameters: {names}.",
            [{"field": n, "message": "is not an allowed parameter", "in": "query"} for n in sorted(query_raw)],
        )
    body: Any = {}
    if spec.body is not None:
        body = _parse_json(raw)
        check_storable(body, where="body")
        validate(spec.body, body, where="body")
    elif raw.strip() and not spec.raw:
        body = _parse_json(raw)
        check_storable(body, where="body")
        if body not in ({}, None):
            raise ValidationFailed(
                "This route takes no request body.", [{"field": "(body)", "message": "must be empty", "in": "body"}]
            )
        body = {}
    return Request(principal, params, body, query, headers, raw)


def _to_response(spec: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        return json_response(result.status or spec.status, result.body, result.headers)
    return json_response(spec.status, result)


def dispatch(spec: RouteSpec, handler: Callable[[Request], Any], current, params: dict[str, str]) -> Response:
    """Run one request through the shared pipeline; never lets an exception become Chalice's 500."""
    callers: list[Principal] = []
    response = _answer(spec, handler, current, params, callers)
    if callers and callers[0].is_key:
        _record_key_use(spec, callers[0], response.status_code)
    return response


def _answer(spec: RouteSpec, handler: Callable[[Request], Any], current, params: dict[str, str],
            callers: list[Principal]) -> Response:
    try:
        return _to_response(spec, handler(_build_request(spec, current, params, callers)))
    except DomainError as err:
        if err.status >= 500:
            cause = err.__cause__ or err.__context__
            logs.annotate(cause=repr(cause)[:500] if cause is not None else err.message)
            log.warning("%s on %s %s: %s; cause: %r", err.code, spec.method, spec.path, err.message, cause)
        return error_response(err)
    except Exception as exc:  # noqa: BLE001 - the edge must answer in the contract's shape
        from botocore.exceptions import BotoCoreError, ClientError
        from pynamodb.exceptions import PynamoDBException

        logs.annotate(cause=repr(exc)[:500])
        if isinstance(exc, (PynamoDBException, ClientError, BotoCoreError)):
            log.warning("upstream failure on %s %s: %r", spec.method, spec.path, exc)
            return error_response(UpstreamUnavailable("A backing service failed; nothing was changed."))
        log.exception("unhandled error on %s %s", spec.method, spec.path)
        return json_response(500, internal_error_body())


def _record_key_use(spec: RouteSpec, principal: Principal, status: int) -> None:
    """Hand one key use to the key port's audit; an audit failure never changes the answer given."""
    port = key_port()
    if port is None:
        return
    try:
        port.record_use(principal, method=spec.method, path=spec.path, status=status)
    except Exception as exc:  # noqa: BLE001 - the request's outcome is already decided
        log.warning("could not audit the use of key %s: %r", principal.key_id, exc)


def internal_error_body() -> dict:
    """The body of a 500 (a bug): the contract's shape, so the caller can quote the request id."""
    return {"error": {"code": "internal_error", "message": "Internal error.", "details": [],
                      "request_id": logs.request_id()}}


class Router:
    """A Chalice Blueprint whose routes carry their contract."""

    def __init__(self, name: str, tag: str):
        self.blueprint = Blueprint(name)
        self.tag = tag

    def route(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        auth: str | tuple[str, ...] = SIGNED_IN,
        body: dict | None = None,
        query: dict | None = None,
        status: int = 200,
        response: dict | None = None,
        errors: tuple[int, ...] = (),
        raw: bool = False,
        key_scope: str | None = None,
    ) -> Callable:
        def register(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
            spec = RouteSpec(
                path=path, method=method.upper(), handler_name=handler.__name__, summary=summary, auth=auth,
                body=body, query=query, status=status, response=response, tag=self.tag, errors=errors,
                raw=raw, key_scope=key_scope,
            )
            ROUTES.append(spec)
            blueprint = self.blueprint

            def view(**params: str) -> Response:
                return dispatch(spec, handler, blueprint.current_request, params)

            view.__name__ = handler.__name__
            view.__doc__ = handler.__doc__
            content_types = ["application/json"] if not raw else ["application/json", "text/plain"]
            blueprint.route(path, methods=[spec.method], content_types=content_types)(view)
            return handler

        return register
