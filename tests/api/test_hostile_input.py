"""Input no store can hold is a 400 `validation_error` naming where it was, never a 5xx (issue 12, item 6).

A lone UTF-16 surrogate (`"\\ud800"` as a JSON escape) has no UTF-8 form, so botocore cannot send it to
DynamoDB (it used to come back as a 503); JSON nested a thousand levels deep broke the parser's recursion
(a 500). Both are refused at the edge, before any schema, service or store sees them, and nothing is written.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.http.validation import MAX_DEPTH, check_storable
from chalicelib.core.errors import ValidationFailed
from tests.factories import ADMIN, apply_partner, new_key
from tests.faults.inject import table_rows

LONE = "\ud800"


def assert_refused(response, where: str, field: str | None = None) -> None:
    assert response.status_code == 400, response.body
    error = response.data["error"]
    assert error["code"] == "validation_error"
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert any(d["in"] == where and (field is None or d["field"] == field) for d in error["details"]), error


def nested(depth: int) -> str:
    """A JSON body: an object whose `display_name` holds arrays nested so that the body is `depth` deep."""
    return '{"display_name": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("raw", [
    '{"display_name": "Dana \\ud800 Apps", "contact_email": "d@example.com", "country": "FR"}',
    '{"display_name": "Dana", "contact_email": "d@example.com", "country": "FR", "\\udfff": 1}',
    '{"display_name": "\\udc00", "contact_email": "d@example.com", "country": "FR"}',
])
def test_a_lone_surrogate_in_the_body_is_refused_and_nothing_is_stored(api, raw):
    before = table_rows()
    response = api.post("/partners", raw=raw, sub="dana")
    assert_refused(response, "body")
    assert table_rows() == before


def test_the_refusal_names_the_field(api):
    body = {"display_name": "Dana Apps", "contact_email": "d@example.com", "country": "FR",
            "website": "https://example.com/" + LONE}
    response = api.post("/partners", raw=json.dumps(body), sub="dana")  # json.dumps writes it as \ud800
    assert "\\ud800" in json.dumps(body)
    assert_refused(response, "body", "website")


def test_a_surrogate_pair_is_ordinary_text(api):
    """`\\ud83d\\ude00` is one character (an emoji): accepted like any other."""
    response = api.post("/partners", raw='{"display_name": "Dana \\ud83d\\ude00", "contact_email": '
                                          '"d@example.com", "country": "FR"}', sub="dana")
    assert response.status_code == 201, response.body
    assert response.data["display_name"] == "Dana \U0001F600"


def test_a_lone_surrogate_in_a_money_route_body_moves_nothing(api):
    before = table_rows()
    response = api.post("/orders", raw='{"items": [{"listing_id": "lst_\\ud800"}]}', sub="carol",
                        headers={"Idempotency-Key": new_key()})
    assert_refused(response, "body", "items.0.listing_id")
    assert table_rows() == before


def test_a_lone_surrogate_in_the_query_path_or_a_header_is_refused(api):
    assert_refused(api.get(f"/listings?q=ab{LONE}"), "query", "q")
    assert_refused(api.get(f"/listings/{LONE}"), "path", "listing_id")
    assert_refused(api.get("/orders", headers={"Authorization": f"Bearer {LONE}"}), "header", "authorization")
    partner = apply_partner(api, "vendor")
    before = table_rows()
    response = api.post(f"/admin/partners/{partner['partner_id']}/reject", {"reason": "no"},
                        headers={"Idempotency-Key": f"k{LONE}"}, **ADMIN)
    assert_refused(response, "header", "idempotency-key")
    assert table_rows() == before


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_json_nested_deeper_than_64_levels_is_a_400_not_a_recursion_error(api, depth):
    response = api.post("/partners", raw=nested(depth), sub="dana")
    assert_refused(response, "body")
    assert "64" in response.data["error"]["details"][0]["message"]


def test_json_nested_64_levels_reaches_the_schema(api):
    """At the limit the body is judged by its schema (here: display_name must be a string)."""
    response = api.post("/partners", raw=nested(MAX_DEPTH), sub="dana")
    assert response.status_code == 400
    fields = {d["field"] for d in response.data["error"]["details"]}
    assert "display_name" in fields and not any("64" in d["message"] for d in response.data["error"]["details"])


def test_a_deep_body_on_a_route_that_takes_none_is_refused_too(api):
    assert_refused(api.post("/orders/ord_x/cancel", raw="[" * 5000 + "]" * 5000, sub="carol"), "body")


# --- the check itself -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value,field", [
    ({"a": [{"b": LONE}]}, "a.0.b"),
    ([1, "ok", {"k": "x" + LONE}], "2.k"),
    ({"ok": 1, "bad": {LONE: 1}}, "bad"),
])
def test_check_storable_names_the_path_of_the_bad_string(value, field):
    with pytest.raises(ValidationFailed) as caught:
        check_storable(value, where="body")
    assert caught.value.details == [{"field": field, "message": caught.value.details[0]["message"], "in": "body"}]


def test_check_storable_counts_depth_from_the_top_value():
    value: object = "leaf"
    for _ in range(MAX_DEPTH):
        value = [value]
    check_storable(value, where="body")  # 64 containers: accepted
    with pytest.raises(ValidationFailed):
        check_storable([value], where="body")
    check_storable({"text": "Grüße, 日本, \U0001F600", "n": 1, "none": None}, where="body")


def test_an_amount_written_as_364_point_0_is_the_integer_364_and_364_point_5_is_refused(api, fake_gateway):
    """JSON Schema's `integer` admits 364.0; money code must still only ever see ints (the fuzzer found a 500)."""
    from tests.factories import pay, place_order, publish_app

    app = publish_app(api, "vendor", price=1000)
    placed = place_order(api, "carol", [app["listing_id"]]).data
    pay(api, fake_gateway, placed)
    half = api.post(f"/admin/orders/{placed['order_id']}/refunds", raw='{"amount": 364.5, "reason": "r"}',
                    headers={"Idempotency-Key": new_key()}, **ADMIN)
    assert_refused(half, "body", "amount")
    whole = api.post(f"/admin/orders/{placed['order_id']}/refunds", raw='{"amount": 364.0, "reason": "r"}',
                     headers={"Idempotency-Key": new_key()}, **ADMIN)
    assert whole.status_code == 201, whole.body
    assert api.get(f"/orders/{placed['order_id']}", **ADMIN).data["status"] == "partially_refunded"
