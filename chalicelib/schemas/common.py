"""Schema fragments shared by every aggregate: money, ids, pages, errors, list queries."""
from __future__ import annotations

from chalicelib.core.errors import DomainError
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

def _error_statuses() -> dict[str, int]:
    """Every error code a route can answer, with its status: the domain errors of `core.errors`."""
    found: dict[str, int] = {}
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        pending += cls.__subclasses__()
        found.setdefault(cls.code, cls.status)
    return dict(sorted(found.items(), key=lambda item: (item[1], item[0])))


# code -> HTTP status. `internal_error` (500) is a bug, never an answer by design: listed so that a client
# decoding `code` knows every value it can meet.
ERROR_STATUS = {**_error_statuses(), "internal_error": 500}
ERROR_CODE = {
    "type": "string",
    "enum": list(ERROR_STATUS),
    "description": "The error's stable code; its HTTP status: "
                   + ", ".join(f"`{code}` {status}" for code, status in ERROR_STATUS.items()) + ".",
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": ERROR_CODE,
                "message": {"type": "string", "description": "A sentence for a person; may change."},
                "details": {"type": "array", "items": {"type": "object"},
                            "description": "What was wrong, one entry per problem: `field`, `message`, `in`."},
                # The request's id (the X-Request-Id header), to quote when asking about this error.
                "request_id": {"type": "string", "minLength": 1},
            },
        }
    },
}


def error_for(status: int) -> dict:
    """The error body of one status: `Error` with `code` narrowed to the codes that go with it."""
    codes = [code for code, code_status in ERROR_STATUS.items() if code_status == status]
    return {"allOf": [ERROR, {"type": "object", "properties": {"error": {
        "type": "object", "properties": {"code": {"enum": codes}}}}}]}


# The shape every list answers; `page_of` narrows `items`.
PAGE = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array"},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    },
}


def page_of(item: dict) -> dict:
    return {"allOf": [PAGE, {"type": "object", "properties": {"items": {"type": "array", "items": item}}}]}
