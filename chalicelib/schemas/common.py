"""Schema fragments shared by every aggregate: money, ids, pages, errors, list queries."""
from __future__ import annotations

from chalicelib.core.money import SUPPORTED_CURRENCIES

CURRENCY = {"type": "string", "enum": list(SUPPORTED_CURRENCIES)}
MONEY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "integer", "minimum": 0, "maximum": 100_000_000},
        "currency": CURRENCY,
    },
}
ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"}
TIMESTAMP = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
# Plain single-line text: not blank, no control characters. Written without lookahead so that
# generators (schemathesis, hypothesis) can produce matching strings quickly.
SINGLE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f]*[^\\s\\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]*$"
# Multi-line text: tabs and newlines allowed, other control characters refused, not blank.
MULTI_LINE_PATTERN = (
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*[^\\s\\x00-\\x1f\\x7f][^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"
)


def single_line(max_length: int, min_length: int = 1) -> dict:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": SINGLE_LINE_PATTERN}


def multi_line(max_length: int, min_length: int = 1) -> dict:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": MULTI_LINE_PATTERN}


REASON = multi_line(1000)

LIMIT = {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
CURSOR = {"type": "string", "minLength": 1, "maxLength": 2048}


def list_query(**extra: dict) -> dict:
    """The query schema of a list route: `limit`, `cursor` and the route's own filters."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"limit": LIMIT, "cursor": CURSOR, **extra},
    }


def reason_body() -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {"reason": REASON},
    }


EMPTY_BODY = {"type": "object", "additionalProperties": False, "properties": {}}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
                # The request's id (the X-Request-Id header), to quote when asking about this error.
                "request_id": {"type": "string", "minLength": 1},
            },
        }
    },
}


def page_of(item: dict) -> dict:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": item}, "next_cursor": {"type": ["string", "null"]}},
    }
