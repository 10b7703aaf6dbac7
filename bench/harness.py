"""Shared plumbing for the benchmarks: a moto_server on loopback, the app's environment, Lambda events.

Benchmarks print ratios against a floor measured in the same run on the same server, so the figures
say what our code costs on top of DynamoDB itself, not how fast this machine happens to be today.
"""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TABLE = "marketplace-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(ddb_port: int) -> dict[str, str]:
    """The environment of the app under benchmark: local stage against the benchmark moto_server."""
    env = dict(os.environ)
    env.update({
        "MARKET_STAGE": "local", "MARKET_TABLE": TABLE,
        "MARKET_LOCAL_JWT_SECRET": "bench-secret-bench-secret-bench!!",
        "MARKET_CURSOR_SECRET": "bench-cursor", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{ddb_port}", "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "",
    })
    return env


@contextmanager
def moto_server():
    """Start moto_server on a free loopback port, point this process at it, stop it by PID at the end."""
    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("moto_server did not start")
                time.sleep(0.1)
        os.environ.update(bench_env(port))
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def api_event(method: str, path: str, *, path_params: dict | None = None, resource: str | None = None,
              query: dict | None = None, body: str | None = None, headers: dict | None = None) -> dict:
    """An API Gateway REST (v1 proxy) event as Lambda hands it to the Chalice handler."""
    return {
        "resource": resource or path, "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {}, "queryStringParameters": query, "multiValueQueryStringParameters":
            {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params, "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource or path, "httpMethod": method, "path": path,
                           "stage": "api", "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}},
    }


class LambdaContext:
    function_name = "marketplace-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:marketplace-bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def describe(values: list[float]) -> str:
    return f"p50 {statistics.median(values):7.2f} ms  p99 {percentile(values, 99):7.2f} ms"


def dump(result: dict) -> None:
    print(json.dumps(result), flush=True)


# --- seeding -----------------------------------------------------------------------------------------
PARTNER_IDS = ("ptn_bench_a", "ptn_bench_b", "ptn_bench_c")


def listing_id(n: int) -> str:
    return f"lst_{n:026d}"


def seed_catalog(count: int) -> dict:
    """Create the table on the benchmark server and load `count` published listings of approved partners.

    Rows are built by the app's own row builders (listing, slug claim, every catalog card) and written
    with BatchWriteItem, so the server holds exactly what the API would have written. Call inside
    `moto_server()`: chalicelib reads its settings (table, endpoint) on first import.
    """
    import boto3

    from chalicelib.catalog import model
    from chalicelib.catalog import repository as repo
    from chalicelib.catalog.repository import new_listing_item
    from chalicelib.core.money import Money
    from chalicelib.db import keys
    from chalicelib.db.table import MarketItem, create_table
    from chalicelib.core.identity import Principal
    from chalicelib.partners.repository import PartnerItem

    create_table()
    rows = [PartnerItem(
        pk=keys.partner_pk(pid), sk=keys.PROFILE_SK, partner_id=pid, owner_sub=pid, display_name=f"Vendor {pid}",
        contact_email="bench@example.com", country="DE", status="approved",
        created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z",
    ).serialize() for pid in PARTNER_IDS]
    for n in range(count):
        content = model.Content(
            name=f"Bench widget {n}", slug=f"bench-widget-{n}", summary="A widget for benchmarks",
            description="Measures the catalog.", tags=("bench", "widget"), category=model.CATEGORY_IDS[n % 4],
            price=Money(1000 + n, "usd"),
        )
        item = new_listing_item(listing_id=listing_id(n), partner_id=PARTNER_IDS[n % len(PARTNER_IDS)],
                                listing_type=model.APP, content=content, status=model.PUBLISHED,
                                actor=Principal("bench"))
        item.published_at = f"2026-01-01T00:00:00.000Z{n:06d}"
        item.partner_name, item.partner_status = f"Vendor {item.partner_id}", "approved"  # as create_listing does
        rows.extend(repo.serialized_published_listing(item))
    client = boto3.client("dynamodb")
    table = MarketItem.Meta.table_name
    for start in range(0, len(rows), 25):
        pending = {table: [{"PutRequest": {"Item": row}} for row in rows[start:start + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None
    return {"table": table, "listing_key": {"pk": {"S": keys.listing_pk(listing_id(0))},
                                            "sk": {"S": keys.LISTING_SK}},
            "catalog_partition": keys.catalog_filter_pk(None, None, None)}


def lambda_response(app, event: dict) -> dict:
    """Invoke the Chalice app as Lambda does and insist on a 200 (a benchmark of errors measures nothing)."""
    response = app(event, LambdaContext())
    if response["statusCode"] != 200:
        raise SystemExit(f"{event['httpMethod']} {event['path']} answered {response['statusCode']}: "
                         f"{response['body'][:300]}")
    return response
