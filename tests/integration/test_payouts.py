"""Payout runs under moto with a fake Connect: who is paid, failures, crashes and re-runs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core import clock
from chalicelib.db import keys
from chalicelib.db.transact import transaction
from chalicelib.core.identity import Principal
from chalicelib.ledger import recorder
from chalicelib.ledger.balances import balance_of
from chalicelib.ledger.journal import JournalItem, PostingItem
from chalicelib.ledger.rules import partner_account, transit_account
from chalicelib.partners import service as partners
from chalicelib.payouts import accounts, repository, service
from tests.factories import line, order, part
from tests.fakes import FakeConnect

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
ADMIN = Principal("admin-1", groups=frozenset({"admin"}))


@pytest.fixture
def connect():
    return FakeConnect()


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_now(lambda: T0)
    yield
    clock.set_now(None)


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


def test_run_pays_eligible_partners_and_lists_the_others_with_reasons(ddb, connect):
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
    run = service.run_payouts(actor="finance-1", currency=None, gateway=connect)
    assert run.status == "completed"
    payouts = repository.run_payouts(run.run_id)
    assert [(p.partner_id, int(p.amount), p.status) for p in payouts] == [(paid, 8000, "paid")]
    skipped = {s.partner_id: (s.reason, int(s.available)) for s in repository.run_skips(run.run_id)}
    assert skipped == {
        small: ("below_minimum", 800), disabled: ("payouts_disabled", 8000), no_account: ("no_payout_account", 8000),
        pending_partner: ("partner_not_approved", 8000), fresh: ("below_minimum", 0),
    }
    assert run.summary["paid"] == {"usd": {"count": 1, "amount": 8000}}
    bal = balance_of(paid, "usd")
    assert (bal.balance, bal.available, bal.paid_out) == (0, 0, 8000)
    assert transit_total() == 0
    assert_ledger_balances(paid, small, disabled, no_account, fresh)
    # a second run finds nothing more to pay
    again = service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert repository.run_payouts(again.run_id) == []
    assert connect.paid_by_destination() == {f"acct_fake_{paid}": 1}


def test_failed_transfer_returns_the_money_to_the_balance(ddb, connect):
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    connect.refuse.add(f"acct_fake_{pid}")
    run = service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    [payout] = repository.run_payouts(run.run_id)
    assert payout.status == "failed" and payout.failure_reason
    bal = balance_of(pid, "usd")
    assert (bal.balance, bal.available, bal.paid_out) == (4000, 4000, 0)
    assert bal.totals["payouts"] == 4000 and bal.totals["payout_returns"] == 4000
    assert transit_total() == 0
    assert_ledger_balances(pid)
    connect.refuse.clear()
    service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert balance_of(pid, "usd").paid_out == 4000


def test_unreachable_stripe_leaves_the_payout_pending_for_the_next_run(ddb, connect):
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    connect.unreachable.add(f"acct_fake_{pid}")
    run = service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert run.summary["pending"] == 1
    assert balance_of(pid, "usd").balance == 0  # committed to the payout, money in transit
    connect.unreachable.clear()
    second = service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert second.summary["resumed"] == 1 and second.summary["paid"]["usd"]["amount"] == 4000
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1}
    assert transit_total() == 0


STEPS = ["run_started", "resumed", "payout_opened", "transfer_sent", "payout_settled", "run_finished"]


class Crash(Exception):
    pass


CASES = [(step, 1) for step in STEPS] + [(step, 2) for step in ("payout_opened", "transfer_sent", "payout_settled")]


@pytest.mark.parametrize("step,occurrence", CASES)
def test_crash_after_each_step_then_rerun_pays_everyone_exactly_once(ddb, connect, step, occurrence):
    pids = [make_partner(f"p{i}", connect) for i in range(3)]
    for i, pid in enumerate(pids):
        sell(pid, 5000 + 1000 * i)
    at(T0 + timedelta(days=20))
    seen = {"n": 0}

    def crash(name: str):
        if name == step:
            seen["n"] += 1
            if seen["n"] == occurrence:
                raise Crash(name)

    with pytest.raises(Crash):
        service.run_payouts(actor="finance-1", currency="usd", gateway=connect, hook=crash)
    service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1 for pid in pids}
    for i, pid in enumerate(pids):
        bal = balance_of(pid, "usd")
        assert (bal.balance, bal.paid_out) == (0, (5000 + 1000 * i) * 8 // 10)
    assert transit_total() == 0
    assert_ledger_balances(*pids)


def test_scheduled_run_happens_once_a_day(ddb, connect):
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=15))
    first = service.run_payouts(actor="schedule", currency=None, gateway=connect, trigger="schedule")
    assert first is not None
    assert service.run_payouts(actor="schedule", currency=None, gateway=connect, trigger="schedule") is None
    at(T0 + timedelta(days=16))
    assert service.run_payouts(actor="schedule", currency=None, gateway=connect, trigger="schedule") is not None


def test_negative_balance_after_refund_nets_off_later_earnings(ddb, connect):
    from chalicelib.ledger.rules import allocate_refund
    from tests.factories import refund

    pid = make_partner("alice", connect)
    o = sell(pid, 10_000)
    at(T0 + timedelta(days=15))
    service.run_payouts(actor="finance-1", currency="usd", gateway=connect)  # pays 8000
    with transaction() as tx:
        recorder.record_refund(tx, o, refund(o, allocate_refund(o, None, None)))
    assert balance_of(pid, "usd").balance == -8000
    sell(pid, 20_000)  # nets 16000, on hold
    at(T0 + timedelta(days=30))
    bal = balance_of(pid, "usd")
    assert (bal.balance, bal.available) == (8000, 8000)
    service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert balance_of(pid, "usd").paid_out == 16000
    assert_ledger_balances(pid)


def test_a_run_cut_short_says_so_and_the_next_run_finishes_its_payouts(ddb, connect):
    pid = make_partner("alice", connect)
    sell(pid, 5000)
    at(T0 + timedelta(days=20))

    def fail_after_opening(name: str):
        if name == "payout_opened":
            raise Crash(name)

    with pytest.raises(Crash):
        service.run_payouts(actor="finance-1", currency="usd", gateway=connect, hook=fail_after_opening)
    runs = list(repository.PayoutRunItem.gsi1.query(keys.PAYOUT_RUNS_PK))
    assert [(r.status, bool(r.finished_at)) for r in runs] == [("interrupted", True)]
    finished = service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert finished.status == "completed"
    assert connect.paid_by_destination() == {f"acct_fake_{pid}": 1}
