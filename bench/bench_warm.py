"""Warm latency: the app's Lambda handler against the same DynamoDB calls made raw, interleaved call by call.

Both run in this process against one moto_server on loopback, so the ratio is what our code (Chalice
dispatch, the route pipeline, pynamodb, serialisation) adds on top of DynamoDB
itself. Each iteration runs the app and the floor back to back, alternating which goes first, so drift
in the server or the machine lands on both. Garbage collection stays on, as in Lambda.

    .venv/bin/python bench/bench_warm.py [--iterations 300] [--listings 25]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    api_event, describe, dump, lambda_response, listing_id, moto_server, percentile, seed_catalog,
)


def interleaved(calls: list, iterations: int, warmup: int) -> list[list[float]]:
    """Run every call once per iteration, rotating which goes first; milliseconds per call."""
    for _ in range(warmup):
        for call in calls:
            call()
    samples: list[list[float]] = [[] for _ in calls]
    clock = time.perf_counter
    for i in range(iterations):
        for k in range(len(calls)):
            j = (i + k) % len(calls)
            start = clock()
            calls[j]()
            samples[j].append((clock() - start) * 1000)
    return samples


def report(name: str, app_ms: list[float], floor_ms: list[float], p50_target: float | None,
           p99_target: float | None) -> None:
    p50 = statistics.median(app_ms) / statistics.median(floor_ms)
    p99 = percentile(app_ms, 99) / percentile(floor_ms, 99)
    if p50_target is None:
        target = "no target: shows what our code adds to the same DynamoDB work"
    else:
        verdict = "ok" if p50 <= p50_target and (p99_target is None or p99 <= p99_target) else "MISSED"
        target = f"target p50 <= {p50_target}x" + (f", p99 <= {p99_target}x" if p99_target else "") + f": {verdict}"
    print(f"{name}")
    print(f"  app   {describe(app_ms)}")
    print(f"  floor {describe(floor_ms)}")
    print(f"  ratio p50 {p50:.2f}x  p99 {p99:.2f}x   ({target})")
    dump({"bench": name, "iterations": len(app_ms), "app_p50_ms": round(statistics.median(app_ms), 3),
          "app_p99_ms": round(percentile(app_ms, 99), 3), "floor_p50_ms": round(statistics.median(floor_ms), 3),
          "floor_p99_ms": round(percentile(floor_ms, 99), 3), "p50_ratio": round(p50, 3), "p99_ratio": round(p99, 3)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--listings", type=int, default=25)
    args = parser.parse_args()
    with moto_server():
        seeded = seed_catalog(args.listings)
        import boto3

        from app import app

        raw = boto3.client("dynamodb")
        table = seeded["table"]
        detail_id = listing_id(0)
        detail = api_event("GET", f"/listings/{detail_id}", resource="/listings/{listing_id}",
                           path_params={"listing_id": detail_id})
        page = api_event("GET", "/listings", query={"limit": "20"})

        def floor_get():
            raw.get_item(TableName=table, Key=seeded["listing_key"])

        def floor_page():
            # the same page the route reads: newest first on gsi1 of the unfiltered partition, limit + 1
            raw.query(TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                      ExpressionAttributeValues={":p": {"S": seeded["catalog_partition"]}},
                      ScanIndexForward=False, Limit=21)

        # The routes' own reads made raw are now the floors themselves: the detail is one GetItem and
        # the page one Query, the partner's name and status being copied onto the rows they read.
        print(f"warm, {args.iterations} interleaved iterations after {args.warmup} warm-up, "
              f"{args.listings} listings on moto_server, gc on, load average {os.getloadavg()[0]:.1f}")
        app_ms, floor_ms = interleaved(
            [lambda: lambda_response(app, detail), floor_get], args.iterations, args.warmup)
        report("GET /listings/{id} via app(event, context) over raw GetItem (the route's own one read)",
               app_ms, floor_ms, 1.1, 1.3)
        app_ms, floor_ms = interleaved(
            [lambda: lambda_response(app, page), floor_page], args.iterations, args.warmup)
        report("GET /listings (newest, limit 20) via app(event, context) over raw Query of the page "
               "(the route's own one read)", app_ms, floor_ms, 1.15, None)


if __name__ == "__main__":
    main()
