"""JSON Schema validation of request bodies and query strings, with errors that name each field.

Validators are compiled once per schema and reused across warm invocations; jsonschema itself is
imported on first use so routes without a body do not pay for it at cold start.

`check_storable` runs first, on everything a client sends: input no store can hold (a lone UTF-16
surrogate, which has no UTF-8 form, or nesting deeper than `MAX_DEPTH`) is a 400 naming the field, before
a schema, a service or DynamoDB sees it (botocore cannot encode the one, recursion breaks on the other).
"""
from __future__ import annotations

from typing import Any

from chalicelib.core.errors import ValidationFailed

_validators: dict[int, Any] = {}

MAX_DEPTH = 64


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


def _storable_text(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse(message: str, field: str, where: str) -> ValidationFailed:
    return ValidationFailed(f"The request {where} is not valid: {message}.",
                            [{"field": field or "(body)", "message": message, "in": where}])


def check_storable(value: Any, *, where: str) -> None:
    """Refuse (400) a lone surrogate in any string or key, and nesting deeper than MAX_DEPTH; iterative,
    so a hostile depth cannot exhaust the stack."""
    stack: list[tuple[Any, list, int]] = [(value, [], 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            if not _storable_text(node):
                raise _refuse("contains a lone UTF-16 surrogate, which is not text", _join(path), where)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _refuse(f"is nested deeper than {MAX_DEPTH} levels", _join(path), where)
        if isinstance(node, dict):
            for key, item in node.items():
                if isinstance(key, str) and not _storable_text(key):
                    raise _refuse("has a field name with a lone UTF-16 surrogate", _join(path), where)
                if isinstance(item, (str, dict, list)):
                    stack.append((item, path + [key], depth + 1))
        else:
            stack.extend((item, path + [index], depth + 1) for index, item in enumerate(node)
                         if isinstance(item, (str, dict, list)))


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
