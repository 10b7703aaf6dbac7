"""`make run`'s terminal view of the API's JSON log (scripts/api_log_view.py)."""
from __future__ import annotations

import io
import json

from scripts.api_log_view import readable, tee

ACCESS = {"level": "ERROR", "timestamp": "2026-11-30T02:14:02.008+00:00", "request_id": "c6af9ac6-7b61-11e6",
          "route": "GET /listings", "message": "GET /listings 503 625.9 ms", "principal": "anonymous",
          "status": 503, "latency_ms": 625.9, "cause": "QueryError('Could not connect')"}


def test_a_request_line_reads_as_time_level_route_status_latency_caller_and_id():
    assert readable(json.dumps(ACCESS)) == ("02:14:02 ERROR GET /listings 503 625.9 ms  anonymous  c6af9ac6"
                                            "  cause: QueryError('Could not connect')")


def test_other_log_lines_show_their_message_and_request_id():
    line = {"level": "WARNING", "timestamp": "2026-11-30T02:14:03.000+00:00", "request_id": "abcdef123456",
            "message": "webhook refused: stale signature"}
    assert readable(json.dumps(line)) == "02:14:03 WARNING webhook refused: stale signature  abcdef12"


def test_business_metrics_show_compactly_and_route_latency_is_left_out():
    emf = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "Marketplace", "Dimensions": [["service"]],
           "Metrics": [{"Name": "OrdersPaid", "Unit": "Count"}, {"Name": "WebhookEventsApplied", "Unit": "Count"}]}]},
           "service": "marketplace", "OrdersPaid": [1.0], "WebhookEventsApplied": 1.0}
    assert readable(json.dumps(emf)).strip() == "metrics OrdersPaid=1 WebhookEventsApplied=1"
    latency = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "Marketplace", "Dimensions": [[
        "service", "route"]], "Metrics": [{"Name": "RouteLatency", "Unit": "Milliseconds"}]}]}, "RouteLatency": [3.2]}
    assert readable(json.dumps(latency)) is None


def test_the_servers_own_lines_pass_through_and_its_access_log_is_dropped():
    assert readable("Serving on http://127.0.0.1:8000\n") == "Serving on http://127.0.0.1:8000"
    assert readable('127.0.0.1 - - [30/Nov/2026 02:16:25] "GET /health HTTP/1.1" 200 -\n') is None
    assert readable("\n") is None


def test_tee_keeps_the_raw_stream_in_the_log_file():
    raw = json.dumps(ACCESS) + "\nServing on x\n"
    log, terminal = io.StringIO(), io.StringIO()
    tee(io.BytesIO(raw.encode()), log, terminal).join(timeout=5)
    assert log.getvalue() == raw
    assert terminal.getvalue().splitlines() == [readable(json.dumps(ACCESS)), "Serving on x"]
