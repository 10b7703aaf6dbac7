"""Request ids, the one log line per request, and `Retry-After` (issue 12, items 1 and 2).

Every answer carries `X-Request-Id` (here, where no API Gateway assigns one, a fresh UUID per request); an
error body repeats it as `error.request_id`; every JSON log line the request writes carries it; a 503 carries
`Retry-After`. The logs name the kind of caller, never the token, the subject or the e-mail address.
"""
from __future__ import annotations

import json
import uuid

import pytest

from tests.factories import ADMIN, FINANCE, approved_partner, deliver, signed_event
from tests.faults.inject import DdbFaults


def json_lines(text: str) -> list[dict]:
    """The JSON objects among the captured stdout lines."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def log_lines(text: str) -> list[dict]:
    """Log lines only (EMF metric lines have `_aws` and no level)."""
    return [line for line in json_lines(text) if "level" in line]


def request_line(lines: list[dict], request_id: str) -> dict:
    """The one access line of the request (the line that has its status)."""
    found = [line for line in lines if line.get("request_id") == request_id and "status" in line]
    assert len(found) == 1, lines
    return found[0]


def test_every_answer_has_a_fresh_request_id_and_errors_repeat_it(api, capsys):
    ok = api.get("/health")
    bad = api.get("/listings?limit=0")
    unknown = api.get("/listings/lst_missing")
    unsigned = api.get("/orders")
    ids = [r.headers["X-Request-Id"] for r in (ok, bad, unknown, unsigned)]
    assert len(set(ids)) == 4
    assert all(uuid.UUID(i) for i in ids)
    for response in (bad, unknown, unsigned):
        assert response.data["error"]["request_id"] == response.headers["X-Request-Id"], response.data
    assert (bad.status_code, unknown.status_code, unsigned.status_code) == (400, 404, 401)


def test_chalices_own_errors_come_in_the_contract_shape_with_the_id(api):
    response = api.post("/partners", raw="x", headers={"Content-Type": "text/plain"}, sub="dana")
    assert response.status_code == 415
    assert response.data["error"]["code"] == "unsupported_media_type"
    assert response.data["error"]["request_id"] == response.headers["X-Request-Id"]


def test_one_line_per_request_with_level_route_status_latency_and_caller_kind(api, capsys):
    capsys.readouterr()
    response = api.get("/listings/lst_missing")
    line = request_line(log_lines(capsys.readouterr().out), response.headers["X-Request-Id"])
    assert line["level"] == "INFO"
    assert line["route"] == "GET /listings/{listing_id}"
    assert line["status"] == 404
    assert isinstance(line["latency_ms"], (int, float)) and line["latency_ms"] >= 0
    assert line["principal"] == "anonymous"
    assert line["service"] == "marketplace"


@pytest.mark.parametrize("call,kind", [
    (lambda api: api.get("/orders", sub="carol"), "customer"),
    (lambda api: api.get("/admin/partners", **ADMIN), "admin"),
    (lambda api: api.get("/finance/ledger", **FINANCE), "finance"),
    (lambda api: api.get("/partner/listings", sub="acme"), "partner"),
    (lambda api: api.get("/admin/partners", sub="carol"), "customer"),  # 403: no staff role
])
def test_the_caller_is_logged_by_kind_never_by_token_subject_or_email(api, capsys, call, kind):
    if kind == "partner":
        approved_partner(api, "acme")
    capsys.readouterr()
    response = call(api)
    out = capsys.readouterr().out
    line = request_line(log_lines(out), response.headers["X-Request-Id"])
    assert line["principal"] == kind, line
    assert "Bearer" not in out and "eyJ" not in out  # no token (JWTs start with eyJ)
    assert "carol" not in out and "admin-1" not in out and "finance-1" not in out and "acme" not in out
    assert "@example.com" not in out


def test_service_warnings_come_out_as_json_with_the_request_id(api, capsys):
    """`Chalice(app_name="marketplace")` used to drop marketplace.* warnings; now they are JSON lines."""
    raw, _header = signed_event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    capsys.readouterr()
    response = deliver(api, raw, "t=1,v1=forged")
    assert response.status_code == 400
    request_id = response.headers["X-Request-Id"]
    lines = [line for line in log_lines(capsys.readouterr().out) if line.get("request_id") == request_id]
    refused = [line for line in lines if line["message"].startswith("webhook refused")]
    assert len(refused) == 1 and refused[0]["level"] == "WARNING", lines
    assert len(lines) == 2  # the warning and the request's own line, both with the id


def test_a_503_says_when_to_retry_and_logs_its_cause_with_the_id(api, capsys):
    capsys.readouterr()
    with DdbFaults().fail("Query", nth=1):
        response = api.get("/listings")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit() and int(response.headers["Retry-After"]) >= 1
    request_id = response.headers["X-Request-Id"]
    assert response.data["error"] == {"code": "upstream_unavailable", "request_id": request_id,
                                      "message": response.data["error"]["message"], "details": []}
    lines = [line for line in log_lines(capsys.readouterr().out) if line.get("request_id") == request_id]
    access = request_line(lines, request_id)
    assert access["level"] == "ERROR" and access["status"] == 503
    assert "ProvisionedThroughputExceeded" in access["cause"]
    assert any(line["level"] == "WARNING" and "ProvisionedThroughputExceeded" in line["message"] for line in lines)


def test_answers_other_than_503_carry_no_retry_after(api):
    assert "Retry-After" not in api.get("/health").headers
    assert "Retry-After" not in api.get("/orders").headers


def test_the_document_declares_the_request_id_everywhere_and_retry_after_on_503(api):
    document = api.get("/openapi.json").data
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert "request_id" in error["required"] and error["properties"]["request_id"]["type"] == "string"
    assert set(document["components"]["headers"]) == {"RequestId", "RetryAfter"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if "$ref" in answer:  # a shared error response (components/responses)
                    answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
                headers = answer.get("headers", {})
                assert headers.get("X-Request-Id") == {"$ref": "#/components/headers/RequestId"}, (path, method, status)
                assert ("Retry-After" in headers) == (status == "503"), (path, method, status)
