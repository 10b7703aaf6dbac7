"""Signed cursors: round trip, tampering, foreign scope, and hostile text never crash."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import BadCursor
from chalicelib.db.cursors import decode_cursor, encode_cursor

POSITION = {"pk": {"S": "PARTNERS#pending"}, "sk": {"S": "2026-11-22T10:00:00.000Z#ptn_1"}}


def test_round_trip():
    assert decode_cursor(encode_cursor(POSITION, "scope-a"), "scope-a") == POSITION


@pytest.mark.parametrize("cursor", [
    "", ".", "abc", "abc.", ".abc", "é.é", "abc.é", "\x00.\x00", "a" * 3000, "abc.\ud800",
])
def test_garbage_is_bad_cursor(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor, "scope-a")


def test_tampered_body_or_mac_and_other_scope():
    cursor = encode_cursor(POSITION, "scope-a")
    body, mac = cursor.split(".")
    forged = encode_cursor({"pk": {"S": "PARTNER#other"}, "sk": {"S": "x"}}, "scope-a").split(".")[0]
    for bad in (f"{forged}.{mac}", f"{body}.{mac[:-1]}A", f"{body}x.{mac}"):
        with pytest.raises(BadCursor):
            decode_cursor(bad, "scope-a")
    with pytest.raises(BadCursor):
        decode_cursor(cursor, "scope-b")
