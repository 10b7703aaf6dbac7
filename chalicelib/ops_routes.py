"""Operational routes: liveness, the OpenAPI document and its interactive reference (`/docs`).

`/docs` is one small HTML page and the vendored Redoc bundle (`docs_page/`, pinned in `redoc.json`), both
served by the API itself, so the reference works with no network: no CDN, no web fonts, and a Content
Security Policy that lets the page reach only its own origin. The document's `servers` entry is the base
path this request came through (`/` locally, `/api` behind the API Gateway stage, a custom domain's base
path), read from the request, never a hard-coded host.
"""
from __future__ import annotations

from pathlib import Path

from chalice import Response

from chalicelib.config import VERSION
from chalicelib.http.routing import PUBLIC, Request, Router

router = Router("ops", tag="operations")

_PAGE_DIR = Path(__file__).with_name("docs_page")
_document: dict | None = None
_assets: dict[str, str] = {}

# The page may load only what its own origin serves; Redoc styles with inline <style> and searches in a
# blob: worker.
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")


@router.route(
    "/health", "GET", summary="Liveness", auth=PUBLIC,
    response={"type": "object", "required": ["status", "version"],
              "properties": {"status": {"type": "string"}, "version": {"type": "string"}}},
)
def health(req: Request) -> dict:
    return {"status": "ok", "version": VERSION}


def _base_path() -> str:
    """The path prefix this request was called under: API Gateway's `requestContext.path` less the route."""
    context = router.blueprint.current_request.context or {}
    called, route = context.get("path") or "", context.get("resourcePath") or ""
    if route and called.endswith(route) and len(called) > len(route):
        return called[: -len(route)]
    return "/"


def _full_document() -> dict:
    global _document
    if _document is None:
        # Imported here: building the document validates examples with jsonschema, which a cold start
        # serving anything else must not pay for.
        from chalicelib.http.openapi import build_document
        from chalicelib.schemas.orders import WEBHOOK_RESPONSE
        from chalicelib.webhooks.service import HANDLERS

        _document = build_document(webhook_events=HANDLERS, webhook_response=WEBHOOK_RESPONSE)
    return _document


@router.route("/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", auth=PUBLIC,
              response={"type": "object"})
def openapi_document(req: Request) -> dict:
    document = _full_document()
    return {**document, "servers": [{**document["servers"][0], "url": _base_path()}]}


def _asset(name: str) -> str:
    if name not in _assets:
        _assets[name] = (_PAGE_DIR / name).read_text(encoding="utf-8")
    return _assets[name]


@router.route("/docs", "GET", summary="The interactive API reference (Redoc, works offline)", auth=PUBLIC)
def docs_page(req: Request) -> Response:
    return Response(_asset("index.html"), status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": DOCS_POLICY,
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


@router.route("/docs/redoc.standalone.js", "GET", summary="The Redoc bundle the reference page runs", auth=PUBLIC)
def docs_script(req: Request) -> Response:
    return Response(_asset("redoc.standalone.js"), status_code=200, headers={
        "Content-Type": "text/javascript; charset=utf-8", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=86400"})
