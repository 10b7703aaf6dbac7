"""The whole `make run` stack for tests: `scripts/run_local.py` on free 127.0.0.1 ports.

`running_stack(log_path)` starts exactly what `make run` starts (moto_server through `scripts/moto_local.py`,
localstripe through `scripts/localstripe_local.py`, `chalice local --stage local`), seeded with the demo
data and with localstripe's webhook pointed at the API, and yields a `LocalStack` once `/health` answers.
On exit it interrupts `run_local.py` (which stops its children) and then stops, by PID, any process of the
stack still alive. Used by the fuzz test and the end-to-end tests; loopback only.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT))
from scripts.run_local import LOCAL_STRIPE_KEY, LOCAL_WEBHOOK_SECRET  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalStack:
    """A running local stack: base URLs, the environment it runs with and the local secrets."""

    api: str
    ddb: str
    stripe: str
    env: dict[str, str]
    webhook_secret: str = LOCAL_WEBHOOK_SECRET
    stripe_key: str = LOCAL_STRIPE_KEY
    pids: dict[int, bytes] = field(default_factory=dict)  # run_local.py's children: PID -> command line

    def token(self, sub: str, groups: str = "") -> str:
        """A bearer token the local stage accepts, from `scripts/make_token.py` (as `make token` makes)."""
        return subprocess.run(
            [sys.executable, "scripts/make_token.py", "--sub", sub, "--groups", groups],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True, timeout=30,
        ).stdout.strip()

    def call(self, method: str, path: str, *, token: str | None = None, body: dict | None = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        """One request to the API; (status, JSON body)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(f"{self.api}{path}", data=data, method=method, headers=sent)
        return _json_exchange(request)

    def stripe_post(self, path: str, params: dict | None = None) -> tuple[int, dict]:
        """A form-encoded POST to localstripe, as Stripe.js or the dashboard would make it."""
        request = urllib.request.Request(
            f"{self.stripe}{path}", data=urllib.parse.urlencode(params or {}).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.stripe_key}"})
        return _json_exchange(request)


def _json_exchange(request: urllib.request.Request) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc); empty where /proc does not tell."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _stop(pid: int, cmdline: bytes) -> None:
    """Kill `pid` if it is still the process we started (its command line unchanged: not a reused PID)."""
    if cmdline and _cmdline(pid) == cmdline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _record_children(stack: LocalStack, parent: int) -> None:
    for pid in _children(parent):
        stack.pids.setdefault(pid, _cmdline(pid))


@contextlib.contextmanager
def running_stack(log_path: Path, *, startup_seconds: float = 120) -> Iterator[LocalStack]:
    """Start `make run`'s stack (see the module docstring); its combined output goes to `log_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    api, ddb, stripe = free_port(), free_port(), free_port()
    env.update({"MARKET_API_PORT": str(api), "MARKET_DDB_PORT": str(ddb), "MARKET_STRIPE_PORT": str(stripe)})
    # The table name and secrets come from the local stage of .chalice/config.json, as in `make run`.
    for name in ("MARKET_TABLE", "MARKET_LOCAL_JWT_SECRET", "MARKET_CURSOR_SECRET"):
        env.pop(name, None)
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    stack = LocalStack(api=f"http://127.0.0.1:{api}", ddb=f"http://127.0.0.1:{ddb}",
                       stripe=f"http://127.0.0.1:{stripe}", env=env)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            _record_children(stack, proc.pid)
            if proc.poll() is not None:
                raise RuntimeError(f"make run's stack exited early; see {log_path}")
            try:
                urllib.request.urlopen(f"{stack.api}/health", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the local stack did not answer /health within "
                                       f"{startup_seconds:.0f} s; see {log_path}") from None
                time.sleep(0.3)
        _record_children(stack, proc.pid)
        yield stack
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # run_local.py stops its children, then exits
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        for pid, cmdline in stack.pids.items():
            _stop(pid, cmdline)
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        log.close()
