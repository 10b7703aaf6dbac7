"""Operational routes: liveness and the OpenAPI document."""
from __future__ import annotations

from chalicelib.config import VERSION
from chalicelib.http.openapi import build_document
from chalicelib.http.routing import PUBLIC, Request, Router

router = Router("ops", tag="operations")

_document: dict | None = None


@router.route(
    "/health", "GET", summary="Liveness", auth=PUBLIC,
    response={"type": "object", "required": ["status", "version"],
              "properties": {"status": {"type": "string"}, "version": {"type": "string"}}},
)
def health(req: Request) -> dict:
    return {"status": "ok", "version": VERSION}


@router.route("/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", auth=PUBLIC,
              response={"type": "object"})
def openapi_document(req: Request) -> dict:
    global _document
    if _document is None:
        _document = build_document()
    return _document
