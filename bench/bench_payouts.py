"""Payout runs as queued jobs: DynamoDB calls and queue messages per partner, flat as partners grow, and the
run's wall time with Stripe answering in 400 ms per transfer for 1, 10 and 50 concurrent workers.

Part 1 (counted): N partners with an available balance (profiles and balance rows written directly), a run
started as the route starts it, and every queued job run by the worker (`chalicelib.jobs.worker.handle`,
batches of up to ten messages as Lambda hands them) against in-process moto (DynamoDB and SQS), with a fake
Connect that answers at once. Counted through botocore: DynamoDB calls by operation and SQS messages sent.
Calls and messages, not moto's latency, are what carries over to AWS.

Part 2 (timed): the run's wall time with Stripe answering in 400 ms per transfer (a SIMULATED latency: the
fake Connect sleeps; no Stripe is called) and W concurrent workers. A real threaded run (W threads, each
receiving up to ten messages at a time and running the worker, as Lambda's pollers do) over moto is done at
a reduced scale (`--scale`: the simulated latency divided so it fits in minutes); the same
queue is also replayed by a discrete-event model (each worker takes up to ten visible messages, runs them in
turn; a transfer costs the latency, a DynamoDB call `--ddb-ms`), which is checked against the threaded run
(full mode, one worker thread: with more threads the in-process moto starved; the model is given moto's
measured time per call) and then gives the figures for 10,000 partners at 400 ms. moto in-process takes ~18 ms a call on this machine, so a real
10,000-partner run at 400 ms is not something a benchmark can wait for; the model says what it costs.

    .venv/bin/python bench/bench_payouts.py            # counts at 1,000 and 10,000 partners, threaded check (long)
    .venv/bin/python bench/bench_payouts.py --sizes 200,1000 --check-partners 300   # what docs/performance.md shows
    .venv/bin/python bench/bench_payouts.py --quick    # counts at 100 and 300 partners, the model (under a minute)
"""
from __future__ import annotations

import argparse
import heapq
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update({
    "MARKET_STAGE": "local", "MARKET_TABLE": "marketplace-bench-payouts", "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "MARKET_CURSOR_SECRET": "bench", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_METRICS_DISABLED": "true", "MARKET_LOG_LEVEL": "ERROR", "HOLD_DAYS": "14",
})
for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
    os.environ.pop(name, None)

import botocore.client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import bootstrap  # noqa: E402
from chalicelib.core import clock  # noqa: E402
from chalicelib.db import keys  # noqa: E402
from chalicelib.db.table import MarketItem, create_table  # noqa: E402
from chalicelib.jobs import queue, worker  # noqa: E402
from chalicelib.ledger.journal import BalanceItem  # noqa: E402
from chalicelib.partners.repository import PartnerItem  # noqa: E402
from chalicelib.payouts import planning, repository, runs  # noqa: E402
from chalicelib.payouts.gateway import Transfer, use_connect  # noqa: E402
from scripts import moto_speedups  # noqa: E402
from scripts.job_poller import ensure_queues, receive, run_batch, sqs_client  # noqa: E402

moto_speedups.apply()  # one request at a time (transactions isolated, as in DynamoDB), for the threaded run


class _NoTableBackup:
    """moto deep-copies the whole table for every TransactWriteItems (to roll back); real DynamoDB does nothing
    of the kind, and the copy makes moto's time grow with the table. No transaction of a successful run
    fails, so the benchmark keeps item copies but not table copies. Call counts are unaffected."""

    def __getattr__(self, name):
        import copy

        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        import copy

        return value if type(value).__name__ == "Table" else copy.deepcopy(value, memo)


import moto.dynamodb.models as _moto_dynamodb  # noqa: E402
from moto.dynamodb.models.table import Table as _MotoTable  # noqa: E402

_moto_dynamodb.copy = _NoTableBackup()  # type: ignore[assignment]
_moto_query = _MotoTable.query


def _partition_query(self, hash_key, *args, **kwargs):
    """moto answers a table Query by sorting every item of the table; DynamoDB reads one partition. For table
    (not index) queries moto is handed just that partition: same results and call counts, DynamoDB's cost."""
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
bootstrap.configure()
T0 = clock.parse_iso("2026-10-01T12:00:00Z")
STRIPE_SECONDS = 0.4


class Calls:
    def __init__(self):
        self.ops: Counter = Counter()
        self.messages = 0
        self.event_ops: Counter = Counter()  # the partner-event dispatch jobs a paid payout's event queues
        self.event_messages = 0
        self.on = False
        self.lock = threading.Lock()
        self.in_events = threading.local()


CALLS = Calls()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation, params):
    result = _original(self, operation, params)
    if CALLS.on:
        service = self.meta.service_model.service_name
        events = getattr(CALLS.in_events, "on", False)
        with CALLS.lock:
            if service == "dynamodb":
                (CALLS.event_ops if events else CALLS.ops)[operation] += 1
            elif service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
                bodies = [e["MessageBody"] for e in params["Entries"]] if operation == "SendMessageBatch" \
                    else [params["MessageBody"]]
                dispatch = sum('"partner_webhooks.dispatch"' in body for body in bodies)
                CALLS.event_messages += dispatch
                CALLS.messages += len(bodies) - dispatch
    return result


botocore.client.BaseClient._make_api_call = _counting


class SlowConnect:
    """Stripe Connect answering every transfer after `latency` seconds (simulated; nothing leaves the process)."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.sent: dict[str, Transfer] = {}
        self.lock = threading.Lock()

    def find_transfer(self, *, payout_id):
        return self.sent.get(payout_id)

    def create_transfer(self, *, payout_id, amount, currency, destination, metadata, source_transaction=None):
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            return self.sent.setdefault(payout_id, Transfer(f"tr_{payout_id}", amount, currency, destination))


def populate(n: int) -> None:
    """N approved partners with payouts enabled and 5,000 of available balance each (usd)."""
    now = clock.now_iso()
    with MarketItem.batch_write() as batch:
        for i in range(n):
            pid = f"ptn_bench{i:06d}"
            batch.save(PartnerItem(
                keys.partner_pk(pid), keys.PROFILE_SK, partner_id=pid, owner_sub=f"u-{pid}", display_name=pid,
                contact_email=f"{pid}@example.com", country="DE", status="approved", payouts_enabled=True,
                stripe_account_id=f"acct_{pid}", created_at=now, updated_at=now, commission_history=[]))
            batch.save(BalanceItem(keys.partner_pk(pid), keys.balance_sk("usd"), partner_id=pid, currency="usd",
                                   gsi1pk=keys.balances_pk("usd"), gsi1sk=pid, sales_net=5000, delta=5000))


def _handler(event, context):
    return worker.handle(event)


def _counted_dispatch(data, ctx):
    """The partner-event dispatch job, run for real and counted apart: it is partner_feed's cost, not the run's."""
    from chalicelib.bootstrap import JOB_HANDLERS
    from chalicelib.partner_feed.outbox import DISPATCH_JOB

    module, _, name = JOB_HANDLERS[DISPATCH_JOB].partition(":")
    CALLS.in_events.on = True
    try:
        return getattr(__import__(module, fromlist=[name]), name)(data, ctx)
    finally:
        CALLS.in_events.on = False


def _dispatch_not_run(data, ctx):
    """At 1,000+ partners the dispatch jobs are only counted: moto answers their index Query by reading the
    whole table, which would make the benchmark quadratic; their calls are measured at 50 partners."""
    return None


def fresh_world(n: int):
    clock.set_now(lambda: T0)
    MarketItem._connection = None
    queue.reset()
    create_table()
    ensure_queues(visibility_seconds=600)
    populate(n)


def counted_run(n: int, *, run_events: bool = False) -> dict:
    with mock_aws():
        fresh_world(n)
        gateway = SlowConnect()
        use_connect(gateway)
        client, url = sqs_client(), queue.queue_url()
        started = time.perf_counter()
        from chalicelib.jobs import registry
        from chalicelib.partner_feed.outbox import DISPATCH_JOB

        registry.register(DISPATCH_JOB, f"{__name__}:{'_counted_dispatch' if run_events else '_dispatch_not_run'}")
        CALLS.ops.clear()
        CALLS.event_ops.clear()
        CALLS.messages = CALLS.event_messages = 0
        CALLS.on = True
        run = runs.start_run(actor="bench", currency="usd")
        batches = 0
        while True:
            records = receive(client, url, visibility=600)
            if not records:
                break
            batches += 1
            run_batch(client, url, records, _handler)
        CALLS.on = False
        elapsed = time.perf_counter() - started
        done = repository.get_run(run.run_id, consistent=True)
        use_connect(None)
    total = sum(CALLS.ops.values())
    return {"partners": n, "status": done.status, "paid": int(done.paid), "transfers": len(gateway.sent),
            "ddb_calls": total, "per_partner": total / n, "messages": CALLS.messages,
            "messages_per_partner": CALLS.messages / n, "worker_invocations": batches,
            "by_operation": dict(sorted(CALLS.ops.items())), "seconds": elapsed,
            "event_calls": sum(CALLS.event_ops.values()), "event_messages": CALLS.event_messages}


def threaded_run(n: int, workers: int, latency: float) -> float:
    """Wall time of a real run: `workers` threads receive up to ten messages each and run them."""
    with mock_aws():
        fresh_world(n)
        use_connect(SlowConnect(latency))
        url = queue.queue_url()
        run = runs.start_run(actor="bench", currency="usd")
        finished = threading.Event()
        started = time.perf_counter()

        def loop():
            own = sqs_client()
            while not finished.is_set():
                records = receive(own, url, visibility=600)
                if records:
                    run_batch(own, url, records, lambda e, c: worker.handle(e))
                elif repository.get_run(run.run_id, consistent=True).status not in ("queued", "running"):
                    finished.set()
                else:
                    time.sleep(0.2)  # idle workers poll gently (each poll is a moto call under its lock)

        threads = [threading.Thread(target=loop) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        assert repository.get_run(run.run_id, consistent=True).status == "completed"
        use_connect(None)
    return elapsed


def modelled_run(n: int, workers: int, latency: float, *, ddb_ms: float, calls_per_partner: float,
                 event_calls: float = 0.0) -> float:
    """The same queue replayed by a discrete-event model (see the module docstring); seconds. With
    `event_calls`, each paid partner's `payout.paid` event also queues a dispatch job of that many DynamoDB
    calls (partners with a webhook endpoint), which takes a worker's time like any job."""
    page, batch = planning.PLAN_PAGE, planning.BATCH_PARTNERS
    plan_seconds = 7 * ddb_ms / 1000
    per_partner = latency + calls_per_partner * ddb_ms / 1000
    visible: list[tuple[float, int, str, int]] = [(0.0, 0, "plan", 0)]  # (visible at, order, kind, partners)
    order = 1
    free = [0.0] * workers
    heapq.heapify(free)
    end = 0.0
    planned = 0
    while visible:
        start = heapq.heappop(free)
        visible.sort()
        take_from = max(start, visible[0][0])
        group = [m for m in visible if m[0] <= take_from][:10]
        for m in group:
            visible.remove(m)
        t = take_from
        for _, _, kind, partners in group:
            if kind == "plan":
                t += plan_seconds
                count = min(page, n - planned)
                for i in range(0, count, batch):
                    visible.append((t, order, "batch", min(batch, count - i)))
                    order += 1
                planned += count
                if planned < n:
                    visible.append((t, order, "plan", 0))
                    order += 1
            elif kind == "batch":
                t += partners * per_partner + 3 * ddb_ms / 1000
                for _ in range(partners if event_calls else 0):
                    visible.append((t, order, "event", 0))
                    order += 1
            else:
                t += event_calls * ddb_ms / 1000
        end = max(end, t)
        heapq.heappush(free, t)
    return end


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ddb-ms", type=float, default=5.0, help="modelled DynamoDB call latency in AWS (ms)")
    parser.add_argument("--scale", type=int, default=10, help="threaded check: the latency divided by this")
    parser.add_argument("--sizes", default="", help="partners of the two counted runs, e.g. 1000,10000")
    parser.add_argument("--check-partners", type=int, default=1000, help="partners of the threaded check")
    args = parser.parse_args()
    sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else (100, 300) if args.quick else (1000, 10000)
    print("Part 1: DynamoDB calls and queue messages per partner (in-process moto, Stripe answering at once)")
    counted = [counted_run(n) for n in sizes]
    for r in counted:
        print(f"{r['partners']:>6} partners: {r['status']}, {r['paid']} paid, {r['ddb_calls']:>6} DynamoDB calls "
              f"({r['per_partner']:.3f} per partner), {r['messages']:>5} queue messages "
              f"({r['messages_per_partner']:.3f} per partner), {r['worker_invocations']} worker invocations, "
              f"{r['seconds']:.0f} s in moto  {r['by_operation']}", flush=True)
        print(f"{'':>6}   + {r['event_messages']} partner-event dispatch jobs (queued only for partners with a "
              f"webhook endpoint; none here)", flush=True)
    small, big = counted
    print(f"x{big['partners'] // small['partners']} partners -> calls per partner x"
          f"{big['per_partner'] / small['per_partner']:.3f}, messages per partner x"
          f"{big['messages_per_partner'] / small['messages_per_partner']:.3f}")
    cpp = big["per_partner"]
    moto_ms = 1000 * big["seconds"] / big["ddb_calls"]
    print(f"\nPart 2: wall time, Stripe SIMULATED at {STRIPE_SECONDS * 1000:.0f} ms per transfer, "
          f"{planning.BATCH_PARTNERS} partners per pay job, up to 10 jobs per worker invocation")
    if not args.quick:
        n, latency = args.check_partners, STRIPE_SECONDS / args.scale
        # One thread only: with 10 or 50 threads the in-process moto (one lock for every call) starved and the
        # check did not finish (2026-11-30); the concurrent figures below rest on the model.
        for w in (1,):
            measured = threaded_run(n, w, latency)
            model = modelled_run(n, w, latency, ddb_ms=moto_ms, calls_per_partner=cpp, event_calls=0)
            print(f"  check: {n} partners, {latency * 1000:.0f} ms transfers, {w:>2} worker threads over moto: "
                  f"{measured:6.1f} s measured, {model:6.1f} s modelled (moto's {moto_ms:.1f} ms a call)", flush=True)
    for w in (1, 10, 50):
        model = modelled_run(10000, w, STRIPE_SECONDS, ddb_ms=args.ddb_ms, calls_per_partner=cpp, event_calls=0)
        print(f"  10,000 partners, {w:>2} workers: {model:7.0f} s ({model / 60:5.1f} min) modelled "
              f"(DynamoDB {args.ddb_ms:g} ms a call)")


if __name__ == "__main__":
    main()
