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
