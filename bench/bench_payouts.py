"""Payout run cost: DynamoDB calls grow with the partners paid, not with the journal lines behind them.

Builds partners (approved, payouts enabled) with sales recorded through the real recorder, moves the
clock past the hold, runs a payout run against an in-memory Connect gateway and counts every DynamoDB
call the run makes (in-process moto; calls and items read, not latency, are the figures that carry
over to real DynamoDB). Scenarios vary the partners and the journal lines per partner separately.

    .venv/bin/python bench/bench_payouts.py            # 100 and 1,000 partners x 10 and 100 lines each
    .venv/bin/python bench/bench_payouts.py --quick    # 50 / 200 partners (a minute)
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update({
    "MARKET_STAGE": "local", "MARKET_TABLE": "marketplace-bench-payouts", "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "MARKET_CURSOR_SECRET": "bench", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
})
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

import botocore.client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.core import clock  # noqa: E402
from chalicelib.db import keys  # noqa: E402
from chalicelib.db.table import MarketItem, create_table  # noqa: E402
from chalicelib.db.transact import transaction  # noqa: E402
from chalicelib.ledger import recorder  # noqa: E402
from chalicelib.orders.model import LinePart, Order, OrderLine  # noqa: E402
from chalicelib.partners.repository import PartnerItem  # noqa: E402
from chalicelib.payouts import service  # noqa: E402
from chalicelib.payouts.gateway import Transfer  # noqa: E402

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
PARTS_PER_LINE = 1
LINES_PER_ORDER = 16  # an order of 16 app lines journals 1 + 16 fee + 16 partner lines = 33 lines


class Calls:
    def __init__(self):
        self.ops: Counter = Counter()
        self.items_read = 0
        self.on = False


CALLS = Calls()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation, params):
    result = _original(self, operation, params)
    if CALLS.on and self.meta.service_model.service_name == "dynamodb":
        CALLS.ops[operation] += 1
        if isinstance(result, dict):
            read = len(result.get("Items", [])) + (1 if "Item" in result else 0)
            responses = result.get("Responses")
            if isinstance(responses, dict):
                read += sum(len(rows) for rows in responses.values())
            CALLS.items_read += read
    return result


botocore.client.BaseClient._make_api_call = _counting


class _NoTableBackup:
    """moto deep-copies the whole table for every item of every TransactWriteItems (to roll back);
    real DynamoDB does nothing of the kind. The benchmark keeps item copies but not table copies, so
    its runtime is not dominated by moto; no transaction in the benchmark fails, so none rolls back.
    DynamoDB call counts, the figures reported, are unaffected."""

    @staticmethod
    def deepcopy(value, memo=None):
        import copy

        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


import moto.dynamodb.models as _moto_dynamodb  # noqa: E402

_moto_dynamodb.copy = _NoTableBackup  # type: ignore[assignment]

from moto.dynamodb.models.table import Table as _MotoTable  # noqa: E402

_moto_query = _MotoTable.query


def _partition_query(self, hash_key, *args, **kwargs):
    """moto answers a table Query by sorting and scanning every item of the table; DynamoDB reads one
    partition. For table (not index) queries the benchmark hands moto just that partition, so moto's
    runtime follows DynamoDB's cost model; results and call counts are the same."""
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name is not None or not self.range_key_attr:
        return _moto_query(self, hash_key, *args, **kwargs)
    partition = self.items.get(hash_key, {})
    self.all_items = lambda: list(partition.values())
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


_MotoTable.query = _partition_query


@contextmanager
def counting():
    CALLS.ops.clear()
    CALLS.items_read = 0
    CALLS.on = True
    try:
        yield CALLS
    finally:
        CALLS.on = False


class CountingConnect:
    def __init__(self):
        self.sent = 0

    def find_transfer(self, *, payout_id):
        return None

    def create_transfer(self, *, payout_id, amount, currency, destination, metadata, source_transaction=None):
        self.sent += 1
        return Transfer(f"tr_{payout_id}", amount, currency, destination)


def make_partners(n: int) -> list[str]:
    now = clock.now_iso()
    ids = [f"ptn_bench{i:05d}" for i in range(n)]
    with PartnerItem.batch_write() as batch:
        for pid in ids:
            batch.save(PartnerItem(
                keys.partner_pk(pid), keys.PROFILE_SK, partner_id=pid, owner_sub=f"u-{pid}", display_name=pid,
                contact_email=f"{pid}@example.com", country="DE", status="approved", payouts_enabled=True,
                stripe_account_id=f"acct_{pid}", created_at=now, updated_at=now, commission_history=[],
            ))
    return ids


def sell(pid: str, lines: int, seq: int) -> int:
    """Record orders for `pid` until about `lines` journal lines exist for it; returns the lines written."""
    written = 0
    while written < lines:
        count = max(1, min(LINES_PER_ORDER, (lines - written - 1) // 2))
        order_lines = tuple(
            OrderLine(f"ln{seq}-{i}", f"lst-{pid}-{i}", "app", "App", 1000,
                      (LinePart(f"lst-{pid}-{i}", pid, 1000, 2000),))
            for i in range(count)
        )
        order = Order(f"ord_{pid}_{seq}_{written}", "cust", "usd", 1000 * count, "paid", order_lines,
                      f"pi_{pid}_{seq}_{written}", clock.now_iso(), clock.now_iso())
        with transaction() as tx:
            recorder.record_sale(tx, order)
        written += 1 + 2 * count
    return written


def scenario(partners: int, lines_per_partner: int) -> dict:
    with mock_aws():
        MarketItem._connection = None
        create_table()
        clock.set_now(lambda: T0)
        ids = make_partners(partners)
        lines = sum(sell(pid, lines_per_partner, i) for i, pid in enumerate(ids))
        clock.set_now(lambda: T0 + timedelta(days=20))
        gateway = CountingConnect()
        started = time.perf_counter()
        with counting() as calls:
            run = service.run_payouts(actor="bench", currency="usd", gateway=gateway)
        elapsed = time.perf_counter() - started
        clock.set_now(None)
        MarketItem._connection = None
    total = sum(calls.ops.values())
    return {"partners": partners, "journal_lines": lines, "transfers": gateway.sent,
            "paid": run.summary["paid"]["usd"]["count"], "ddb_calls": total,
            "calls_per_partner": round(total / partners, 2), "items_read": calls.items_read,
            "by_operation": dict(sorted(calls.ops.items())), "seconds_in_moto": round(elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    grid = [(50, 10), (50, 100), (200, 10)] if args.quick else [(100, 10), (100, 100), (1000, 10), (1000, 100)]
    results = []
    for partners, lines in grid:
        result = scenario(partners, lines)
        results.append(result)
        print(f"{result['partners']:>5} partners {result['journal_lines']:>7} journal lines: "
              f"{result['ddb_calls']:>6} DynamoDB calls ({result['calls_per_partner']} per partner), "
              f"{result['transfers']} transfers  {result['by_operation']}",
              flush=True)
    base = results[0]
    for r in results[1:]:
        print(f"x{r['partners'] / base['partners']:.0f} partners, x{r['journal_lines'] / base['journal_lines']:.1f} "
              f"lines -> x{r['ddb_calls'] / base['ddb_calls']:.2f} calls")


if __name__ == "__main__":
    main()
