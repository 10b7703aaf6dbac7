"""Reconciliation memory: the peak stays flat as the period (the number of Stripe objects) grows.

DynamoDB runs in a separate moto_server process (bench/harness.py), so this process's memory is our
code's alone. Each scenario writes N ledger references for a period and serves N matching payment
intents from a generated Stripe listing (pages of 100, produced lazily like Stripe's list API), then
measures the Python heap peak (tracemalloc) while `run_passes` reconciles them, plus its DynamoDB calls.

    .venv/bin/python bench/bench_reconciliation.py            # N = 1,000 / 3,000 / 9,000
    .venv/bin/python bench/bench_reconciliation.py --quick    # N = 500 / 2,000
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import moto_server  # noqa: E402

PAGE = 100


class GeneratedListing:
    """N succeeded payment intents, served page by page; nothing kept between pages."""

    def __init__(self, n: int, created: int, prefix: str):
        self.n, self.created, self.prefix = n, created, prefix

    def payments(self, gte, lt):
        from chalicelib.payouts.gateway import PAYMENT, StripeRecord

        for start in range(0, self.n, PAGE):
            yield [StripeRecord(PAYMENT, f"{self.prefix}{i:07d}", 1000, "usd", "succeeded", self.created)
                   for i in range(start, min(start + PAGE, self.n))]

    def refunds(self, gte, lt):
        return iter(())

    def transfers(self, gte, lt):
        return iter(())

    def retrieve(self, kind, stripe_id):
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [500, 2000] if args.quick else [1000, 3000, 9000]
    with moto_server():
        import botocore.client

        from chalicelib.db import keys
        from chalicelib.db.table import MarketItem, create_table
        from chalicelib.ledger.journal import StripeRefItem
        from chalicelib.ledger.statements import Period
        from chalicelib.reconciliation import service

        calls: Counter = Counter()
        original = botocore.client.BaseClient._make_api_call

        def counting(self, operation, params):
            calls[operation] += 1
            return original(self, operation, params)

        botocore.client.BaseClient._make_api_call = counting
        MarketItem._connection = None
        create_table()
        results = []
        for index, n in enumerate(sizes):
            # each scenario has its own month, so earlier scenarios' rows are outside its period
            month = date(2026, 1 + index, 1)
            p = Period(month, date(2026, 1 + index, 28))
            prefix = f"pi_s{index}_"
            with StripeRefItem.batch_write() as batch:
                for i in range(n):
                    at = f"{month.isoformat()}T12:00:00.000Z"
                    sid = f"{prefix}{i:07d}"
                    batch.save(StripeRefItem(
                        keys.stripe_ref_pk(sid), keys.STRIPE_REF_SK, gsi1pk=keys.STRIPE_REFS_PK,
                        gsi1sk=keys.posting_sk(at, sid), stripe_id=sid, ref_kind="payment", amount=1000,
                        currency="usd", status="succeeded", txn_id=f"sale-ord{i}", at=at, entity_id=f"ord{i}"))
            from calendar import timegm

            listing = GeneratedListing(n, timegm(month.timetuple()) + 3600, prefix)
            calls.clear()
            tracemalloc.start()
            started = time.perf_counter()
            progress = service.run_passes(f"rec_bench{index}", p, listing)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert progress.matched == n and sum(progress.counts.values()) == 0, progress
            result = {"stripe_objects": n, "matched": progress.matched, "peak_kib": round(peak / 1024),
                      "ddb_calls": sum(calls.values()), "by_operation": dict(sorted(calls.items())),
                      "seconds": round(elapsed, 1)}
            results.append(result)
            print(f"{n:>6} Stripe objects: peak heap {result['peak_kib']:>6} KiB, {result['ddb_calls']:>5} DynamoDB "
                  f"calls {result['by_operation']}, {result['seconds']} s", flush=True)
        base = results[0]
        for r in results[1:]:
            print(f"x{r['stripe_objects'] / base['stripe_objects']:.0f} objects -> peak heap "
                  f"x{r['peak_kib'] / base['peak_kib']:.2f}, calls x{r['ddb_calls'] / base['ddb_calls']:.2f}")


if __name__ == "__main__":
    main()
