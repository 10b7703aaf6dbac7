"""API fuzzing: schemathesis against `chalice local` serving the app's own `/openapi.json`.

The whole local stack runs as `make run` starts it (moto_server, localstripe, chalice local, seeded
with demo data), each process on a free 127.0.0.1 port. schemathesis then generates requests from the
document for every operation, with a token whose subject owns a demo partner and holds the admin and
finance groups, so partner, admin and finance routes are reached as well as the public ones. The run is
bounded in time (`FUZZ_SECONDS`, default 150 s). Any server error, undocumented status or content type,
response that breaks its schema, or accepted invalid input fails the test.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _token(env: dict) -> str:
    return subprocess.run(
        [sys.executable, "scripts/make_token.py", "--sub", "acme-owner", "--groups", "admin,finance"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    api, ddb, stripe = _free_port(), _free_port(), _free_port()
    env.update({"MARKET_API_PORT": str(api), "MARKET_DDB_PORT": str(ddb), "MARKET_STRIPE_PORT": str(stripe)})
    # The table name and secrets come from the local stage of .chalice/config.json, as in `make run`.
    for name in ("MARKET_TABLE", "MARKET_LOCAL_JWT_SECRET", "MARKET_CURSOR_SECRET"):
        env.pop(name, None)
    log = open(tmp_path_factory.mktemp("stack") / "run_local.log", "w")
    proc = subprocess.Popen([sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make run's stack exited early; see {log.name}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{api}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the local stack did not answer /health within 120 s")
                time.sleep(0.5)
        yield {"url": f"http://127.0.0.1:{api}", "env": env}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_schemathesis_finds_no_failures(local_stack, tmp_path):
    seconds = os.environ.get("FUZZ_SECONDS", "150")
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG), "--no-color", "run",
        f"{local_stack['url']}/openapi.json", "--max-time", seconds, "--max-examples", "10",
        # One worker: CPython 3.11 can trip over concurrent AST parsing inside hypothesis ("AST
        # constructor recursion depth mismatch"), which would fail the run for nothing the API did.
        "--workers", "1",
        "--header", f"Authorization: Bearer {_token(local_stack['env'])}",
        "--generation-database", "none", "--request-timeout", "30", "--max-failures", "20",
    ]
    if os.environ.get("FUZZ_SEED"):
        command += ["--seed", os.environ["FUZZ_SEED"]]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=int(seconds) + 240)
    report = result.stdout[-20000:] + result.stderr[-5000:]
    assert result.returncode == 0, report
    # Every operation of the document was exercised, not just loaded.
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested, report
    assert int(tested.group(1)) == int(selected.group(2)), report
