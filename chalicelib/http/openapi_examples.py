"""Examples for the OpenAPI document: one valid example built from any JSON Schema, so that every route,
including routes added later, shows a request and a response in `/docs` without anyone writing one.

`example_of(schema)` walks the schema and picks a realistic value for each field from its name and
constraints (an `*_id` looks like an id, `amount` like a price, `currency` is `eur`, a `*_at` is a timestamp),
then checks the result against the schema with `jsonschema`; a field whose first pick fails is retried with
plainer candidates. The hand-written examples of the main operations live in `openapi_samples.py` and win
over these. `tests/api/test_openapi_examples.py` validates every example of the document against its schema.
"""
from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator

# Realistic values by field name (exact name first, then by suffix). Each is tried before plainer fallbacks.
_BY_NAME: dict[str, Any] = {
    "display_name": "Acme Apps", "contact_email": "billing@acme.example", "email": "ada@example.com",
    "country": "DE", "website": "https://acme.example", "name": "Photo Studio Pro", "slug": "photo-studio-pro",
    "summary": "Edit photos in the browser, with layers and RAW import.",
    "description": "Photo Studio Pro edits photos in the browser: layers, masks, RAW import and export to every "
                   "common format.",
    "reason": "Duplicate of an existing listing.", "title": "Does what it says", "body": "Fast and reliable.",
    "text": "Thanks for the review: version 2.1 fixes the export bug.", "currency": "eur", "amount": 1999,
    "rating": 5, "bps": 2000, "commission_bps": 2000, "limit": 20, "category": "productivity",
    "request_id": "c0a8012e-5f1d-4e3a-9b7e-1d2f3a4b5c6d", "cursor": "eyJrIjoiLi4uIn0.c2ln",
    "client_secret": "pi_3Qh8Zr2eZvKYlo2C_secret_Jx9", "payment_intent_id": "pi_3Qh8Zr2eZvKYlo2C",
    "stripe_account_id": "acct_1Qh8Zr2eZvKYlo2C", "stripe_refund_id": "re_3Qh8Zr2eZvKYlo2C",
    "onboarding_url": "https://connect.stripe.com/setup/e/acct_1Qh8Zr2eZvKYlo2C",
    "owner_sub": "3f1c9b52-7d0e-4b8a-a1f4-2c6e9d8b7a10", "customer_sub": "8d2e4f60-1a3b-4c5d-9e8f-7a6b5c4d3e2f",
    "version": "1.0.0", "status": "ok", "effective_from": "2026-12-01", "from": "2026-11-01", "to": "2026-11-30",
    "partner_name": "Acme Apps", "tag": "photo", "trial_days": 14, "set_by": "3f1c9b52-admin",
    "actor": "3f1c9b52-admin", "url": "https://acme.example/hooks/marketplace", "customer": "cus_Qh8Zr2eZvKYlo2",
    "destination": "acct_1Qh8Zr2eZvKYlo2C",
    "memo": "Goodwill credit for the November outage.", "action": "partner.approved", "entity_type": "partner",
    "event": "sale.completed", "licence": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIuLi4ifQ.c2ln", "at": "2026-11-22T10:00:00Z",
    "token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIuLi4ifQ.c2ln", "after": "2026-11-22T10:00:00Z",
    "access_until": "2026-12-22T10:00:00Z", "current_period_end": "2026-12-22T10:00:00Z", "listing_version": 3,
}
# Integer fields that hold money in minor units, by name.
_AMOUNT_NAMES = {"list_price", "gross", "net", "fee", "balance", "available", "pending", "debit", "credit",
                 "opening_balance", "closing_balance", "stripe_amount", "ledger_amount", "amount_refunded"}
_BY_SUFFIX: list[tuple[str, Any]] = [
    ("_id", None), ("_at", "2026-11-22T10:00:00Z"), ("_on", "2026-11-22"), ("_date", "2026-11-22"),
    ("_email", "ada@example.com"), ("_url", "https://acme.example/app"), ("_bps", 2000), ("_count", 3),
]
_ID_PREFIX = {"listing": "lst", "partner": "ptn", "order": "ord", "refund": "rfd", "review": "rvw",
              "run": "run", "payout": "po", "reconciliation": "rec", "adjustment": "adj", "line": "lin",
              "account": "acct", "event": "evt", "entry": "jrn", "transaction": "txn"}
_PLAIN_STRINGS = ["example", "Example text", "example-1", "ex", "a", "A", "1", "eur", "DE", "ada@example.com",
                  "https://acme.example", "2026-11-22", "2026-11-22T10:00:00Z", "partner:ptn_4kq8m2"]
_FORMATS = {"date-time": "2026-11-22T10:00:00Z", "date": "2026-11-22", "email": "ada@example.com",
            "uri": "https://acme.example", "uuid": "c0a8012e-5f1d-4e3a-9b7e-1d2f3a4b5c6d"}
_MAX_DEPTH = 12


def _id_for(name: str) -> str:
    stem = name[: -len("_id")]
    prefix = _ID_PREFIX.get(stem.split("_")[-1], stem[:3] or "id")
    return f"{prefix}_01JD7K2M4Q8RZ3"


def _by_name(name: str) -> Any:
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name in _AMOUNT_NAMES:
        return 1999
    for suffix, value in _BY_SUFFIX:
        if name.endswith(suffix):
            return _id_for(name) if suffix == "_id" else value
    return None


def _fits_string(schema: dict, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 10**9):
        return False
    pattern = schema.get("pattern")
    return pattern is None or re.search(pattern, value) is not None


def _literal_prefix(pattern: str | None) -> str:
    """The fixed text an anchored pattern starts with (`^mpk_[a-z]+` -> `mpk_`), or ''."""
    if not pattern or not pattern.startswith("^"):
        return ""
    match = re.match(r"[A-Za-z0-9_:-]*", pattern[1:])
    prefix = match.group(0) if match else ""
    following = pattern[1 + len(prefix):2 + len(prefix)]
    return prefix[:-1] if following in ("?", "*", "{") and prefix else prefix


def _string(schema: dict, name: str) -> str:
    plain = [_by_name(name), _FORMATS.get(schema.get("format", "")), *_PLAIN_STRINGS]
    prefix = _literal_prefix(schema.get("pattern"))
    prefixed = [prefix + value for value in ("01JD7K2M4Q8RZ3", "example") if prefix]
    candidates = [*plain, *prefixed]
    for value in candidates:
        if _fits_string(schema, value):
            return value
    return "x" * max(1, schema.get("minLength", 1))


def _number(schema: dict, name: str, kind: type) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", -10**9) + 1)
    high = schema.get("maximum", schema.get("exclusiveMaximum", 10**9) - 1)
    value = _by_name(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        value = schema.get("default", min(max(1, low), high))
    return kind(value)


def _merge(parts: list[dict]) -> dict:
    """allOf as one schema: later parts narrow earlier ones (enough for how our schemas use allOf)."""
    merged: dict = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                props = dict(merged.get("properties", {}))
                for prop, sub in value.items():
                    props[prop] = _merge([props[prop], sub]) if prop in props else sub
                merged["properties"] = props
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            elif key == "allOf":
                merged = _merge([merged, *value])
            else:
                merged[key] = value
    return merged


def _generate(schema: Any, name: str, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if "default" in schema and schema.get("type") not in ("integer", "number"):
        return schema["default"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        preferred = _by_name(name)
        return preferred if preferred in schema["enum"] else schema["enum"][0]
    if "allOf" in schema:
        return _generate(_merge(schema["allOf"]), name, depth + 1)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _generate({**{k: v for k, v in schema.items() if k != key}, **options[0]}, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        if "null" in kind and _by_name(name) is None:
            return None  # an optional text nobody filled in (a rejection reason, the last page's cursor)
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties", {})
        return {prop: _generate(sub, prop, depth + 1) for prop, sub in props.items()}
    if kind == "array":
        item = _generate(schema.get("items", {"type": "string"}), name[:-1] if name.endswith("s") else name,
                         depth + 1)
        return [_vary(item, i) for i in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return _number(schema, name, int)
    if kind == "number":
        return _number(schema, name, float)
    if kind == "boolean":
        return True
    return None


def _vary(value: Any, i: int) -> Any:
    """The i-th of several distinct items (unique arrays): the first string in it gets a suffix."""
    if i == 0:
        return value
    if isinstance(value, str):
        return f"{value}{i + 1}"
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, (str, dict)):
                return {**value, key: _vary(inner, i)}
    if isinstance(value, int) and not isinstance(value, bool):
        return value + i
    return value


def _required_only(schema: Any, value: Any) -> Any:
    """The same example keeping only required properties (when optional ones cannot all be present)."""
    if isinstance(schema, dict) and "allOf" in schema:
        schema = _merge(schema["allOf"])
    if isinstance(value, dict) and isinstance(schema, dict):
        required = set(schema.get("required", []))
        props = schema.get("properties", {})
        return {k: _required_only(props.get(k), v) for k, v in value.items() if k in required}
    return value


def example_of(schema: dict, name: str = "") -> Any:
    """A value that validates against `schema` (or None when no simple walk can produce one)."""
    validator = Draft202012Validator(schema)
    first = _generate(schema, name, 0)
    if validator.is_valid(first):
        return first
    trimmed = _required_only(schema, first)
    return trimmed if validator.is_valid(trimmed) else None
