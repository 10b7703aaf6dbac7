"""JSON Schema validation of request bodies and query strings, with errors that name each field.

Validators are compiled once per schema and reused across warm invocations; jsonschema itself is
imported on first use so routes without a body do not pay for it at cold start.
"""
from __future__ import annotations

from typing import Any

from chalicelib.core.errors import ValidationFailed

_validators: dict[int, Any] = {}


_validator_class = None


def _ecma_pattern(validator, pattern, instance, schema):
    """`pattern` with ECMA-262 semantics for a trailing `$`: Python's `$` also matches before a final
    newline, which would let "name\n" through a single-line pattern."""
    import re

    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    compiled = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if re.search(compiled, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _validator(schema: dict):
    global _validator_class
    found = _validators.get(id(schema))
    if found is None:
        if _validator_class is None:
            from jsonschema import Draft202012Validator, validators

            _validator_class = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
        found = _validator_class(schema, format_checker=_validator_class.FORMAT_CHECKER)
        _validators[id(schema)] = found
    return found


def _join(path: list) -> str:
    return ".".join(str(p) for p in path)


def _details(error) -> list[dict[str, str]]:
    """One entry per failing field, named by its dotted path (`items.0.listing_id`)."""
    base = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        return [
            {"field": _join(base + [name]), "message": "is required"}
            for name in error.validator_value
            if name not in error.instance
        ]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        return [
            {"field": _join(base + [name]), "message": "is not an allowed field"}
            for name in error.instance
            if name not in known
        ]
    return [{"field": _join(base) or "(body)", "message": error.message}]


def validate(schema: dict, instance: Any, *, where: str = "body") -> None:
    """Raise ValidationFailed listing every failing field of `instance` against `schema`."""
    errors = sorted(_validator(schema).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    details: list[dict[str, str]] = []
    for error in errors:
        for item in _details(error):
            item["in"] = where
            if item not in details:
                details.append(item)
    fields = ", ".join(d["field"] for d in details)
    raise ValidationFailed(f"The request {where} is not valid: {fields}.", details)


def coerce_query(schema: dict, params: dict[str, str]) -> dict[str, Any]:
    """Turn query-string text into the types the query schema declares (integers, booleans)."""
    props = schema.get("properties", {})
    out: dict[str, Any] = {}
    for name, text in params.items():
        kind = props.get(name, {}).get("type")
        if kind == "integer" and text.lstrip("-").isdigit() and len(text) < 19:
            out[name] = int(text)
        elif kind == "boolean" and text in ("true", "false"):
            out[name] = text == "true"
        else:
            out[name] = text
    return out
