"""Payout runs as queued jobs, under moto's DynamoDB and SQS with a fake Connect: who is paid, failures,
unknown outcomes, a worker killed after every step, every message delivered twice, and bigger runs that
span several planning pages, batches and currencies."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.identity import Principal
from chalicelib.db import keys
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.balances import balance_of
from chalicelib.ledger.journal import JournalItem, PostingItem
from chalicelib.ledger.rules import partner_account, transit_account
from chalicelib.partner_feed.repository import events_after
from chalicelib.partners import service as partners
from chalicelib.payouts import accounts, batches, model, planning, repository, runs
from chalicelib.payouts.gateway import use_connect
from tests.factories import line, order, part
from tests.fakes import FakeConnect

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
ADMIN = Principal("admin-1", groups=frozenset({"admin"}))


@pytest.fixture
def connect(ddb):
    gateway = FakeConnect()
    use_connect(gateway)
    yield gateway
    use_connect(None)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_now(lambda: T0)
    yield
    clock.set_now(None)
    batches.set_hook(None)
    planning.set_hook(None)


def at(moment: datetime):
    clock.set_now(lambda: moment)


def make_partner(sub: str, connect: FakeConnect, *, approve=True, account=True, enabled=True) -> str:
    user = Principal(sub, email=f"{sub}@example.com")
    pid = partners.apply(user=user, display_name=f"V {sub}", contact_email=f"{sub}@example.com",
                         country="DE").partner_id
    if approve:
        partners.decide(admin=ADMIN, partner_id=pid, action="approve")
    if account:
        body, _ = accounts.create_payout_account(user=user, base_url="http://x", gateway=connect)
        if enabled:
            accounts.apply_account_update(body["stripe_account_id"], payouts_enabled=True)
    return pid


def sell(pid: str, amount: int, bps: int = 2000, currency: str = "usd"):
    o = order(line(part(pid, amount, bps)), currency=currency)
    with transaction() as tx:
        recorder.record_sale(tx, o)
    return o


def assert_ledger_balances(*partner_ids: str, currency: str = "usd"):
    for header in JournalItem.gsi1.query(keys.JOURNAL_ALL_PK):
        assert sum(l["debit"] - l["credit"] for l in header.lines) == 0, header.txn_id
    for pid in partner_ids:
        recomputed = -sum(int(p.amount) for p in PostingItem.query(keys.account_pk(partner_account(pid, currency))))
        assert balance_of(pid, currency).balance == recomputed


def transit_total(currency: str = "usd") -> int:
    return sum(int(p.amount) for p in PostingItem.query(keys.account_pk(transit_account(currency))))


def start(currency: str | None = "usd", **kw):
    return runs.start_run(actor="finance-1", currency=currency, **kw)


def finished(run_id: str):
    return repository.get_run(run_id, consistent=True)


def test_run_is_queued_then_pays_eligible_partners_and_lists_the_others(connect, jobs):
    paid = make_partner("paid", connect)
    small = make_partner("small", connect)
    disabled = make_partner("disabled", connect, enabled=False)
    no_account = make_partner("noacct", connect, account=False)
    pending_partner = make_partner("pending", connect, approve=False, account=False)
    fresh = make_partner("fresh", connect)
    for pid, amount in [(paid, 10_000), (small, 1000), (disabled, 10_000), (no_account, 10_000),
                        (pending_partner, 10_000)]:
        sell(pid, amount)
    at(T0 + timedelta(days=14))
    sell(fresh, 10_000)  # still on hold
    run = start(None)
    assert run.status == "queued" and connect.transfers == {}  # nothing paid before a worker runs
    jobs()
    run = finished(run.run_id)
    assert run.status == "completed" and run.planning_done
    assert run.progress() == {"partners_total": 6, "paid": 1, "failed": 0, "skipped": 5, "pending": 0}
    assert run.paid_amounts() == {"usd": 8000}
    payouts = repository.run_payouts(run.run_id)
    assert [(p.partner_id, int(p.amount), p.status) for p in payouts] == [(paid, 8000, "paid")]
    skipped = {s.partner_id: (s.reason, int(s.available)) for s in repository.run_skips(run.run_id)}
    assert skipped == {
        small: ("below_minimum", 800), disabled: ("payouts_disabled", 8000), no_account: ("no_payout_account", 8000),
        pending_partner: ("partner_not_approved", 8000), fresh: ("below_minimum", 0),
    }
    bal = balance_of(paid, "usd")
    assert (bal.balance, bal.available, bal.paid_out) == (0, 0, 8000)
    assert transit_total() == 0
    assert_ledger_balances(paid, small, disabled, no_account, fresh)
    again = start("usd")
    jobs()
    assert repository.run_payouts(again.run_id) == [] and finished(again.run_id).status == "completed"
    assert connect.paid_by_destination() == {f"acct_fake_{paid}": 1}


def test_one_open_run_per_currency_and_a_run_of_every_currency_collides_with_all(connect, jobs):
    first = start("usd")
    with pytest.raises(Conflict) as busy:
        start("usd")
    assert busy.value.details == [{"currency": "usd", "payout_run_id": first.run_id}]
    with pytest.raises(Conflict):
        start(None)
    eur = start("eur")  # another currency is free
    jobs()
    assert finished(first.run_id).status == finished(eur.run_id).status == "completed"
    every = start(None)
    with pytest.raises(Conflict):
        start("gbp")
    jobs()
    assert finished(every.run_id).status == "completed"
    start("gbp")  # the lock went with the completed run


def test_a_refused_transfer_fails_the_payout_returns_the_money_and_the_run_says_so(connect, jobs):
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    connect.refuse.add(f"acct_fake_{pid}")
    run = start()
    jobs()
    run = finished(run.run_id)
    assert run.status == "completed_with_failures" and run.progress()["failed"] == 1
    [payout] = repository.run_payouts(run.run_id)
    assert payout.status == "failed" and payout.failure_reason
    bal = balance_of(pid, "usd")
    assert (bal.balance, bal.available, bal.paid_out) == (4000, 4000, 0)
    assert transit_total() == 0
    assert_ledger_balances(pid)
    connect.refuse.clear()
    start()
    jobs()
    assert balance_of(pid, "usd").paid_out == 4000


def test_unknown_outcomes_are_asked_again_later_and_then_paid_once(connect, jobs, monkeypatch):
    monkeypatch.setattr(model, "unknown_outcome_delay", lambda attempt: 0)
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    connect.unreachable.add(f"acct_fake_{pid}")
    calls = {"n": 0}
    original = connect.create_transfer

    def flaky(**kw):
        calls["n"] += 1
        if calls["n"] == 3:
            connect.unreachable.clear()  # Stripe answers on the third round
        return original(**kw)

    connect.create_transfer = flaky
    run = start()
    jobs()
    run = finished(run.run_id)
    assert run.status == "completed" and run.progress()["paid"] == 1 and calls["n"] == 3
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1} and transit_total() == 0


def test_a_payout_stripe_stays_silent_about_is_counted_pending_and_the_next_run_settles_it(connect, jobs, monkeypatch):
    monkeypatch.setattr(model, "unknown_outcome_delay", lambda attempt: 0)
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    connect.unreachable.add(f"acct_fake_{pid}")
    first = start()
    jobs()
    first = finished(first.run_id)
    assert first.status == "completed_with_failures"
    assert first.progress() == {"partners_total": 1, "paid": 0, "failed": 0, "skipped": 0, "pending": 1}
    assert balance_of(pid, "usd").balance == 0 and transit_total() != 0  # committed, in transit
    connect.unreachable.clear()
    second = start()
    jobs()
    assert [s.reason for s in repository.run_skips(second.run_id)] == ["below_minimum"]
    assert finished(first.run_id).progress()["paid"] == 1 and finished(first.run_id).progress()["pending"] == 0
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1} and transit_total() == 0
    assert_ledger_balances(pid)


class Crash(Exception):
    pass


STEPS = ["plan_counted", "plan_sent", "batch_read", "payout_opened", "transfer_sent", "payout_settled",
         "skips_written", "batch_done"]


CASES = [(step, 1) for step in STEPS] + [(step, 2) for step in ("payout_opened", "transfer_sent", "payout_settled")]


@pytest.mark.parametrize("step,occurrence", CASES)
def test_a_worker_killed_after_each_step_is_redelivered_and_pays_everyone_once(connect, jobs, step, occurrence):
    pids = [make_partner(f"p{i}", connect) for i in range(3)]
    small = make_partner("small", connect)
    for i, pid in enumerate(pids):
        sell(pid, 5000 + 1000 * i)
    sell(small, 100)
    at(T0 + timedelta(days=20))
    seen = {"n": 0}

    def crash(name: str):
        if name == step:
            seen["n"] += 1
            if seen["n"] == occurrence:
                raise Crash(name)

    batches.set_hook(crash)
    planning.set_hook(crash)
    run = start()
    jobs()
    assert seen["n"] >= occurrence, "the worker was killed at that step"
    run = finished(run.run_id)
    assert run.status == "completed", run.to_dict()
    assert run.progress() == {"partners_total": 4, "paid": 3, "failed": 0, "skipped": 1, "pending": 0}
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1 for pid in pids}
    for i, pid in enumerate(pids):
        bal = balance_of(pid, "usd")
        assert (bal.balance, bal.paid_out) == (0, (5000 + 1000 * i) * 8 // 10)
    assert transit_total() == 0
    assert_ledger_balances(*pids, small)


def test_every_message_delivered_twice_pays_everyone_once(connect, jobs, monkeypatch):
    from app import jobs_worker

    monkeypatch.setattr(planning, "BATCH_PARTNERS", 2)
    pids = [make_partner(f"p{i}", connect) for i in range(5)]
    for pid in pids:
        sell(pid, 5000)
    at(T0 + timedelta(days=20))

    def twice(event, context):
        jobs_worker(event, context)
        return jobs_worker(event, context)

    run = start()
    jobs(twice)
    run = finished(run.run_id)
    assert run.status == "completed" and run.progress()["paid"] == 5 and run.progress()["partners_total"] == 5
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1 for pid in pids}
    assert transit_total() == 0
    assert_ledger_balances(*pids)
    for pid in pids:  # one `payout.paid` event per partner, however often its messages were delivered
        [event] = [e for e in events_after(pid, 0, limit=50) if e.type.startswith("payout.")]
        assert event.type == "payout.paid" and event.data["amount"] == {"amount": 4000, "currency": "usd"}
        assert event.data["payout_run_id"] == run.run_id and event.data["transfer_id"]


def test_a_run_over_many_pages_batches_and_currencies_counts_every_partner_once(connect, jobs, monkeypatch):
    monkeypatch.setattr(planning, "PLAN_PAGE", 3)
    monkeypatch.setattr(planning, "BATCH_PARTNERS", 2)
    pids = [make_partner(f"p{i}", connect) for i in range(7)]
    for i, pid in enumerate(pids):
        sell(pid, 5000, currency="usd")
        if i % 2:
            sell(pid, 4000, currency="eur")
    at(T0 + timedelta(days=20))
    run = start(None)
    jobs()
    run = finished(run.run_id)
    assert run.status == "completed"
    assert run.progress() == {"partners_total": 7 + 3, "paid": 10, "failed": 0, "skipped": 0, "pending": 0}
    assert run.paid_amounts() == {"usd": 7 * 4000, "eur": 3 * 3200}
    assert sorted(connect.paid_by_destination().values()) == [1, 1, 1, 1, 2, 2, 2]  # one per currency


def test_the_time_running_low_sends_the_rest_of_a_batch_back(connect, jobs, monkeypatch):
    from chalicelib.jobs import worker

    monkeypatch.setattr(planning, "BATCH_PARTNERS", 3)
    pids = [make_partner(f"p{i}", connect) for i in range(3)]
    for pid in pids:
        sell(pid, 5000)
    at(T0 + timedelta(days=20))
    paid_before = []

    class Low:
        def running_low(self):
            return len(connect.transfers) > len(paid_before)  # low after each transfer, once

    original = worker.run_record

    def run_record(record, *, time_left):
        paid_before[:] = list(connect.transfers)
        return original(record, time_left=Low())

    monkeypatch.setattr(worker, "run_record", run_record)
    run = start()
    jobs()
    assert finished(run.run_id).status == "completed"
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1 for pid in pids}


def test_scheduled_run_is_queued_once_a_day_and_not_beside_an_open_run(connect, jobs):
    from chalicelib.payouts import jobs as payout_jobs

    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    first = payout_jobs.daily_payout_run()
    assert first["run_id"] and first["status"] == "queued"
    assert payout_jobs.daily_payout_run()["reason"] == "already_started_today"
    jobs()
    assert finished(first["run_id"]).status == "completed"
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1}
    at(T0 + timedelta(days=16))
    manual = start("eur")
    busy = payout_jobs.daily_payout_run()
    assert busy["reason"] == "open_run" and busy["open"][0]["payout_run_id"] == manual.run_id
    jobs()
    assert payout_jobs.daily_payout_run()["run_id"] is not None  # the guard was not taken by the refused start


def test_negative_balance_after_refund_nets_off_later_earnings(connect, jobs):
    from chalicelib.ledger.rules import allocate_refund
    from tests.factories import refund

    pid = make_partner("alice", connect)
    o = sell(pid, 10_000)
    at(T0 + timedelta(days=15))
    start()
    jobs()
    with transaction() as tx:
        recorder.record_refund(tx, o, refund(o, allocate_refund(o, None, None)))
    assert balance_of(pid, "usd").balance == -8000
    sell(pid, 20_000)
    at(T0 + timedelta(days=30))
    start()
    jobs()
    assert balance_of(pid, "usd").paid_out == 16000
    assert_ledger_balances(pid)
