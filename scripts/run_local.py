"""`make run`: the whole marketplace on one machine, no cloud account.

Starts, each as its own process bound to 127.0.0.1:
  * moto_server (DynamoDB)            MARKET_DDB_PORT, default 8001
  * localstripe via our wrapper       MARKET_STRIPE_PORT, default 8420
  * chalice local --stage local       MARKET_API_PORT, default 8000
then creates the table, seeds demo data, registers a localstripe webhook pointing at the local API, and
waits. Ctrl-C stops every process it started. Both stores start fresh on every run (moto_server keeps
data in memory; localstripe is told not to persist), so the ledger and Stripe never disagree by accident.
Logs go to .run/*.log; the API's log lines (JSON, as Lambda writes them) are also shown readably in this
terminal (scripts/api_log_view.py).
"""
from __future__ import annotations

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
BIN = Path(sys.executable).parent
LOCAL_STRIPE_KEY = "sk_test_local_marketplace"
LOCAL_WEBHOOK_SECRET = "whsec_local_marketplace_demo"


def port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def require_free(p: int, what: str) -> None:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", p)) == 0:
            sys.exit(f"port {p} ({what}) is already in use on 127.0.0.1; stop that process or set the port variable")


def wait_http(url: str, what: str, seconds: float = 30, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited early; see .run/*.log")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {seconds:.0f}s; see .run/*.log")


def local_env(api: int, ddb: int, stripe: int) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(os.environ)
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"]["local"]["environment_variables"])
    env.update({
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{ddb}",
        "AWS_ENDPOINT_URL_SQS": f"http://127.0.0.1:{ddb}",  # moto_server serves the job queue too
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe}",
        "STRIPE_SECRET_KEY": LOCAL_STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
        "MARKET_PUBLIC_URL": f"http://127.0.0.1:{api}",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",  # each log and metric line reaches .run/api.log and the terminal at once
    })
    return env


def main() -> int:
    api, ddb, stripe = port("MARKET_API_PORT", 8000), port("MARKET_DDB_PORT", 8001), port("MARKET_STRIPE_PORT", 8420)
    for p, what in ((api, "API"), (ddb, "DynamoDB"), (stripe, "Stripe")):
        require_free(p, what)
    RUN_DIR.mkdir(exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from scripts.api_log_view import tee

    env = local_env(api, ddb, stripe)
    procs: list[subprocess.Popen] = []

    def start(name: str, args: list[str], *, show: bool = False) -> subprocess.Popen:
        log = open(RUN_DIR / f"{name}.log", "w")
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE if show else log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        if show:
            tee(proc.stdout, log, sys.stdout)
        procs.append(proc)
        return proc

    def stop_all(*_args) -> None:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    # Ctrl-C must work even when a parent shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(0)))
    try:
        moto = start("moto", [sys.executable, "scripts/moto_local.py", "-H", "127.0.0.1", "-p", str(ddb)])
        stripe_proc = start("localstripe", [sys.executable, "scripts/localstripe_local.py", "--port", str(stripe)])
        wait_http(f"http://127.0.0.1:{ddb}/moto-api/", "moto_server", proc=moto)
        wait_http(f"http://127.0.0.1:{stripe}/v1/customers", "localstripe", proc=stripe_proc)

        start("worker", [sys.executable, "scripts/job_poller.py", "--threads", "2"], show=True)
        seed = subprocess.run([sys.executable, "scripts/seed_local.py"], cwd=ROOT, env=env)
        if seed.returncode != 0:
            raise SystemExit("seeding failed")

        body = urllib.parse.urlencode({
            "url": f"http://127.0.0.1:{api}/webhooks/stripe", "secret": LOCAL_WEBHOOK_SECRET,
        }).encode()
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{stripe}/_config/webhooks/marketplace", data=body, method="POST"), timeout=5)

        chalice = start("api", [str(BIN / "chalice"), "local", "--no-autoreload", "--stage", "local",
                                "--host", "127.0.0.1", "--port", str(api)], show=True)
        wait_http(f"http://127.0.0.1:{api}/health", "chalice local", seconds=60, proc=chalice)
        print(f"""
Marketplace is running (Ctrl-C stops everything):
  API          http://127.0.0.1:{api}        (try: curl http://127.0.0.1:{api}/health)
  OpenAPI      http://127.0.0.1:{api}/openapi.json
  DynamoDB     http://127.0.0.1:{ddb}        (moto_server, in memory)
  Job queue    SQS on moto_server; scripts/job_poller.py runs the jobs (.run/worker.log)
  Stripe       http://127.0.0.1:{stripe}        (localstripe, in memory; key {LOCAL_STRIPE_KEY})
  Webhooks     localstripe -> http://127.0.0.1:{api}/webhooks/stripe
  Logs         .run/api.log (JSON, shown below readably), .run/moto.log, .run/localstripe.log
Tokens (HS256, local stage only):
  make token SUB=admin GROUPS=admin          an admin
  make token SUB=finance GROUPS=finance      finance
  make token SUB=acme-owner                  owner of the demo partner "Acme Software"
  make token SUB=carol                       any customer
""", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = [p.args[0] for p in procs if p.poll() is not None]
        print(f"a process stopped unexpectedly: {dead}; see .run/*.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
