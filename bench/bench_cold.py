"""Cold start: spawn of a fresh Python process -> the first response of the app's Lambda handler.

The clock starts just before the spawn and stops when the child writes its first response to a pipe,
not when it exits (interpreter teardown, 100-250 ms, is never paid by Lambda before the response).
The app child imports `app`, builds an API Gateway event and calls `app.app(event, context)` for
GET /listings/{id}; the floor child imports boto3, creates one DynamoDB client and does one GetItem on
the same table of the same moto_server. App and floor runs alternate, so load on the machine lands on
both alike; the figure is the median of each and their ratio.

    .venv/bin/python bench/bench_cold.py [--runs 15]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, api_event, dump, listing_id, moto_server, seed_catalog  # noqa: E402

# Both children read their argument the same way and write one line when they have their answer.
APP_CHILD = """
import json, sys
arg = json.loads(sys.argv[1])
from app import app
class Context:
    function_name = "marketplace-bench"; memory_limit_in_mb = 512; aws_request_id = "cold"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:marketplace-bench"
    def get_remaining_time_in_millis(self): return 30000
response = app(arg, Context())
import time
sys.stdout.write(f"RESULT {response['statusCode']} {time.process_time() * 1000:.1f}\\n"); sys.stdout.flush()
"""
FLOOR_CHILD = """
import json, sys
arg = json.loads(sys.argv[1])
import boto3
client = boto3.client("dynamodb")
response = client.get_item(TableName=arg["table"], Key=arg["key"])
import time
sys.stdout.write(f"RESULT {200 if 'Item' in response else 404} {time.process_time() * 1000:.1f}\\n"); sys.stdout.flush()
"""


def first_response_ms(code: str, arg: dict, env: dict) -> tuple[float, float]:
    """(wall ms from spawn to the response line, CPU ms the child had used by then)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, json.dumps(arg)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=ROOT)
    # The app's JSON log lines share stdout (as in Lambda): the answer is the line marked RESULT.
    line = child.stdout.readline()
    while line and not line.startswith(b"RESULT "):
        line = child.stdout.readline()
    elapsed = (time.perf_counter() - start) * 1000
    _, err = child.communicate(timeout=60)
    status, _, cpu = line.decode().removeprefix("RESULT ").partition(" ")
    if status != "200":
        raise SystemExit(f"cold-start child failed ({line!r}): {err.decode()[-2000:]}")
    return elapsed, float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with moto_server():
        seeded = seed_catalog(3)
        env = dict(os.environ)
        detail_id = listing_id(0)
        event = api_event("GET", f"/listings/{detail_id}", resource="/listings/{listing_id}",
                          path_params={"listing_id": detail_id})
        floor_arg = {"table": seeded["table"], "key": seeded["listing_key"]}
        # one unmeasured run of each: bytecode caches written, files in the page cache, as on a warm host
        first_response_ms(APP_CHILD, event, env)
        first_response_ms(FLOOR_CHILD, floor_arg, env)
        runs: dict[str, list[tuple[float, float]]] = {"app": [], "floor": []}
        for i in range(args.runs):
            order = (("app", APP_CHILD, event), ("floor", FLOOR_CHILD, floor_arg))
            for name, code, arg in order if i % 2 == 0 else order[::-1]:
                runs[name].append(first_response_ms(code, arg, env))
        wall = {name: statistics.median(w for w, _ in values) for name, values in runs.items()}
        cpu = {name: statistics.median(c for _, c in values) for name, values in runs.items()}
        ratio, cpu_ratio = wall["app"] / wall["floor"], cpu["app"] / cpu["floor"]
        print(f"cold start, {args.runs} interleaved runs each (spawn -> first response, not exit); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"  app   (import app; app(event, context) GET /listings/{{id}}): median {wall['app']:7.1f} ms wall, "
              f"{cpu['app']:6.1f} ms CPU")
        print(f"  floor (import boto3; one client; one GetItem):              median {wall['floor']:7.1f} ms wall, "
              f"{cpu['floor']:6.1f} ms CPU")
        verdict = "ok" if ratio <= 1.2 else "MISSED"
        print(f"  ratio {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU   (target <= 1.2x: {verdict})")
        dump({"bench": "cold start", "runs": args.runs, "app_median_ms": round(wall["app"], 1),
              "floor_median_ms": round(wall["floor"], 1), "ratio": round(ratio, 3),
              "app_cpu_ms": round(cpu["app"], 1), "floor_cpu_ms": round(cpu["floor"], 1),
              "cpu_ratio": round(cpu_ratio, 3)})


if __name__ == "__main__":
    main()
