"""Schema validation at the edge: field-named errors, query coercion, ECMA-style patterns."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.http.validation import coerce_query, validate
from chalicelib.schemas.common import multi_line, single_line


@pytest.mark.parametrize("text,ok", [
    ("Acme", True), ("  Acme  ", True), ("Ünïcode ✓", True), ("", False), ("   ", False),
    ("a\u0007b", False), ("line\nbreak", False), ("trailing\n", False), ("tab\there", False), ("\x7f", False),
])
def test_single_line_text(text, ok):
    schema = {"type": "object", "properties": {"t": single_line(20)}}
    if ok:
        validate(schema, {"t": text})
    else:
        with pytest.raises(ValidationFailed) as err:
            validate(schema, {"t": text})
        assert err.value.details[0]["field"] == "t"


@pytest.mark.parametrize("text,ok", [
    ("para one\n\npara two", True), ("tabs\tok\r\n", True), ("\n\n", False), ("bell\u0007", False),
])
def test_multi_line_text(text, ok):
    schema = {"type": "object", "properties": {"t": multi_line(50)}}
    if ok:
        validate(schema, {"t": text})
    else:
        with pytest.raises(ValidationFailed):
            validate(schema, {"t": text})


def test_every_failing_field_is_named_once():
    schema = {"type": "object", "additionalProperties": False, "required": ["a", "b"],
              "properties": {"a": {"type": "integer"}, "b": {"type": "string"},
                             "c": {"type": "object", "required": ["d"], "properties": {"d": {"type": "string"}}}}}
    with pytest.raises(ValidationFailed) as err:
        validate(schema, {"a": "x", "c": {}, "zz": 1})
    fields = [d["field"] for d in err.value.details]
    assert sorted(fields) == ["a", "b", "c.d", "zz"]


def test_query_coercion_only_for_declared_types():
    schema = {"properties": {"limit": {"type": "integer"}, "flag": {"type": "boolean"}, "q": {"type": "string"}}}
    assert coerce_query(schema, {"limit": "5", "flag": "true", "q": "12"}) == {"limit": 5, "flag": True, "q": "12"}
    assert coerce_query(schema, {"limit": "5x"}) == {"limit": "5x"}
