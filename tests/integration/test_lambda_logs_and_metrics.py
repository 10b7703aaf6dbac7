"""The Lambda handlers as Lambda calls them: JSON log lines and EMF metric lines on stdout (issue 12).

`app.app(event, context)` is given API Gateway's proxy event (REST API, with `requestContext.requestId`)
and a Lambda context, and the scheduled handler a CloudWatch scheduled event, exactly as in AWS. What
CloudWatch would receive is what the process writes to stdout: log lines (JSON with `level`) and metric
lines (JSON with `_aws.CloudWatchMetrics`, the Embedded Metric Format).
"""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import pytest

from tests.conftest import make_token
from tests.factories import new_key, publish_app, signed_event

NAMESPACE = "Marketplace"


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    aws_request_id: str = "8f5e3c1a-0000-4000-8000-00000000lamb"
    function_name: str = "marketplace-dev"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:marketplace-dev"

    def get_remaining_time_in_millis(self) -> int:
        return 28_000


def api_gateway_event(method: str, resource: str, *, request_id: str, path_params: dict | None = None,
                      headers: dict | None = None, body: str | None = None, query: dict | None = None) -> dict:
    """API Gateway's REST proxy event (what the Lambda receives), for a route `resource` like /orders/{order_id}."""
    path = resource.format(**(path_params or {}))
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Content-Type": "application/json",
               **(headers or {})}
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters": (
            {k: [v] for k, v in query.items()} if query else None),
        "pathParameters": path_params, "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "requestId": request_id, "path": f"/api{path}",
            "stage": "api", "accountId": "000000000000", "apiId": "abc123",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8"},
        },
        "body": body, "isBase64Encoded": False,
    }


def scheduled_event() -> dict:
    return {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000", "time": "2026-11-30T02:00:00Z",
            "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:000000000000:rule/daily-payout-run"],
            "detail": {}}


def stdout_json(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def emf_values(lines: list[dict]) -> dict[str, float]:
    """Business metric name -> total, from the EMF lines with only the `service` dimension."""
    totals: dict[str, float] = {}
    for line in lines:
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == NAMESPACE
            if directive["Dimensions"] != [["service"]]:
                continue
            assert line["service"] == "marketplace"
            for metric in directive["Metrics"]:
                value = line[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


@pytest.fixture
def unreachable_dynamodb(monkeypatch):
    """DynamoDB's endpoint is a closed port on the loopback: every call fails to connect."""
    from chalicelib.db.table import MarketItem

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
    MarketItem._connection = None
    yield
    MarketItem._connection = None


def test_a_503_is_logged_as_json_with_api_gateways_request_id_and_its_cause(unreachable_dynamodb, capsys):
    from app import app

    request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    capsys.readouterr()
    answer = app(api_gateway_event("GET", "/listings", request_id=request_id, query={"category": "analytics"}),
                 LambdaContext())
    out = capsys.readouterr().out

    assert answer["statusCode"] == 503
    assert answer["headers"]["X-Request-Id"] == request_id
    assert int(answer["headers"]["Retry-After"]) >= 1
    assert json.loads(answer["body"])["error"]["request_id"] == request_id
    lines = [line for line in stdout_json(out) if "level" in line]
    assert lines and all(line["request_id"] == request_id for line in lines), lines
    cause = [line for line in lines if line["level"] == "WARNING" and "Could not connect" in line["message"]]
    assert len(cause) == 1, lines
    access = [line for line in lines if line.get("status") == 503]
    assert len(access) == 1 and access[0]["level"] == "ERROR" and "Could not connect" in access[0]["cause"]
    assert access[0]["route"] == "GET /listings" and access[0]["principal"] == "anonymous"


def test_a_paid_order_emits_emf_metric_lines(client, fake_gateway, capsys):
    from app import app
    from tests.factories import Api

    listing = publish_app(Api(client), "vendor", price=1500)
    token = make_token("carol", email="carol@example.com")
    capsys.readouterr()

    body = json.dumps({"items": [{"listing_id": listing["listing_id"]}]})
    placed = app(api_gateway_event("POST", "/orders", request_id="req-place-0001", body=body, headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": new_key()}), LambdaContext())
    assert placed["statusCode"] == 201, placed
    order = json.loads(placed["body"])
    placing = stdout_json(capsys.readouterr().out)
    assert emf_values(placing) == {"OrdersPlaced": 1}

    pi_id = order["payment"]["payment_intent_id"]
    fake_gateway.succeed(pi_id)
    raw, signature = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"})
    delivered = app(api_gateway_event("POST", "/webhooks/stripe", request_id="req-webhook-0001", body=raw.decode(),
                                      headers={"Stripe-Signature": signature}), LambdaContext())
    assert delivered["statusCode"] == 200, delivered
    paying = stdout_json(capsys.readouterr().out)
    assert emf_values(paying) == {"OrdersPaid": 1, "WebhookEventsApplied": 1}
    latency = [line for line in paying if line.get("route") == "POST /webhooks/stripe" and "_aws" in line]
    assert len(latency) == 1
    assert latency[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "route"]]
    assert latency[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "RouteLatency", "Unit": "Milliseconds"}]
    assert all(line["request_id"] == "req-webhook-0001" for line in paying if "level" in line)

    # Stripe redelivers: counted as a duplicate, nothing paid twice.
    again = app(api_gateway_event("POST", "/webhooks/stripe", request_id="req-webhook-0002", body=raw.decode(),
                                  headers={"Stripe-Signature": signature}), LambdaContext())
    assert json.loads(again["body"])["outcome"] == "duplicate"
    assert emf_values(stdout_json(capsys.readouterr().out)) == {"WebhookEventsDuplicate": 1}


def test_the_scheduled_payout_run_flushes_its_metrics_and_logs_with_the_invocation_id(ddb, capsys):
    import app as application

    capsys.readouterr()
    result = application.daily_payout_run(scheduled_event(), LambdaContext(aws_request_id="sched-0001"))
    assert result["run_id"] and result["status"] == "queued"  # the schedule queues the run; jobs pay it
    lines = stdout_json(capsys.readouterr().out)
    logged = [line for line in lines if "level" in line]
    assert any(line["message"] == f"payout run {result['run_id']} queued" for line in logged), logged
    assert all(line["request_id"] == "sched-0001" for line in logged)
    from scripts.job_poller import drain

    drain()  # the worker runs the run's jobs: it completes and counts it, each job logging under its job id
    lines = stdout_json(capsys.readouterr().out)
    assert emf_values(lines) == {"PayoutRunsCompleted": 1}
    completed = [line for line in lines if "level" in line and line["message"].startswith(
        f"payout run {result['run_id']} completed")]
    # no partner has a balance: the planning job's last page completes the run (no pay job was needed)
    assert completed and completed[0]["request_id"].startswith("job_") and completed[0]["job"] == "payouts.plan"


def test_metrics_need_no_lambda_context(capsys):
    """Outside any invocation (a script, a test) recording and flushing work and write one EMF line."""
    from chalicelib.telemetry import metrics

    metrics.flush()
    capsys.readouterr()
    metrics.count(metrics.RECONCILIATION_DISCREPANCIES, 0)
    metrics.count(metrics.REFUNDS_ISSUED)
    metrics.flush()
    metrics.flush()  # nothing left: writes nothing, warns nothing
    lines = stdout_json(capsys.readouterr().out)
    assert len(lines) == 1
    assert emf_values(lines) == {"ReconciliationDiscrepancies": 0, "RefundsIssued": 1}
