"""Reconciliation memory: the peak stays flat as the period (the number of Stripe objects) grows.

DynamoDB runs in a separate moto_server process (bench/harness.py), so this process's memory is our
code's alone. Each scenario writes N ledger references for a period and serves N matching payment
intents from a generated Stripe listing (pages of 100, produced lazily like Stripe's list API), then
measures the Python heap peak (tracemalloc) while the reconciliation job's steps (`reconciliation/steps.py`,
one page each, as the worker runs them) reconcile them, plus their DynamoDB calls.

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

    def page(self, kind, gte, lt, after):
        """One page after position `after` (the index of the next object, as text), like Stripe's lists."""
        from chalicelib.payouts.gateway import PAYMENT, StripeRecord

        if kind != PAYMENT:
            return [], None
        start = int(after or 0)
        stop = min(start + PAGE, self.n)
        records = [StripeRecord(PAYMENT, f"{self.prefix}{i:07d}", 1000, "usd", "succeeded", self.created)
                   for i in range(start, stop)]
        return records, (str(stop) if stop < self.n else None)


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
        from chalicelib.db.transact import transaction
        from chalicelib.reconciliation import repository, steps
        from chalicelib.reconciliation.window import window

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
            w = window(month.isoformat(), date(2026, 1 + index, 28).isoformat())
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
            with transaction() as tx:
                bounds = w.to_dict()
                repository.add_queued(tx, recon_id=f"rec_bench{index}", period_from=bounds["from"],
                                      period_to=bounds["to"], actor="bench", at=bounds["from"], phase="payment")
            steps_run = 0
            while True:  # the job's steps, one page each, as the worker runs them (without the queue)
                recon = repository.get_reconciliation(f"rec_bench{index}", consistent=True)
                if recon.status == "completed":
                    break
                assert steps._step(recon, listing) != steps.LOST
                steps_run += 1
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            matched, counts = int(recon.matched), recon.to_dict()["counts"]
            assert matched == n and sum(counts.values()) == 0, recon.to_dict()
            result = {"stripe_objects": n, "matched": matched, "peak_kib": round(peak / 1024), "steps": steps_run,
                      "ddb_calls": sum(calls.values()), "by_operation": dict(sorted(calls.items())),
                      "seconds": round(elapsed, 1)}
            results.append(result)
            print(f"{n:>6} Stripe objects: {steps_run} job steps, peak heap {result['peak_kib']:>6} KiB, "
                  f"{result['ddb_calls']:>5} DynamoDB "
                  f"calls {result['by_operation']}, {result['seconds']} s", flush=True)
        base = results[0]
        for r in results[1:]:
            print(f"x{r['stripe_objects'] / base['stripe_objects']:.0f} objects -> peak heap "
                  f"x{r['peak_kib'] / base['peak_kib']:.2f}, calls x{r['ddb_calls'] / base['ddb_calls']:.2f}")


if __name__ == "__main__":
    main()
