"""The scheduled payout run works under its own budget and stops starting payouts when its Lambda's time
runs low; what it did not reach (partners, a pending payout) is paid by the next run, once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.config import API_DEADLINES, JOB_DEADLINES, JOB_STOP_MARGIN_SECONDS
from chalicelib.core import clock, deadlines
from chalicelib.core.deadlines import UNLIMITED, TimeLeft
from chalicelib.core.identity import Principal
from chalicelib.db.table import connection
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.partners import service as partners
from chalicelib.payouts import accounts, jobs, model, repository, service
from chalicelib.payouts.gateway import use_connect
from tests.factories import line, order, part
from tests.fakes import FakeConnect

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
ADMIN = Principal("admin-1", groups=frozenset({"admin"}))
PLENTY_MS, LOW_MS = 200_000, int(JOB_STOP_MARGIN_SECONDS * 1000) - 1


class ObservingConnect(FakeConnect):
    """A fake Connect that notes the budget in force, and the DynamoDB client's, when a transfer is sent."""

    def __init__(self):
        super().__init__()
        self.budgets: list[tuple] = []

    def create_transfer(self, **kwargs):
        cfg = connection().client.meta.config
        self.budgets.append((deadlines.current(), cfg.read_timeout, cfg.retries["total_max_attempts"]))
        return super().create_transfer(**kwargs)


class LambdaContext:
    """What Lambda hands the handler: the time left, here scripted by the test."""

    def __init__(self, remaining):
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining()


class ScheduleEvent:
    """Chalice's CloudWatchEvent carries the Lambda context as `.context`."""

    def __init__(self, context):
        self.context = context


@pytest.fixture
def connect(ddb):
    gateway = ObservingConnect()
    use_connect(gateway)
    clock.set_now(lambda: T0)
    yield gateway
    clock.set_now(None)
    use_connect(None)


def earning_partner(sub: str, connect: FakeConnect, amount: int = 10_000) -> str:
    user = Principal(sub, email=f"{sub}@example.com")
    pid = partners.apply(user=user, display_name=f"V {sub}", contact_email=f"{sub}@example.com",
                         country="DE").partner_id
    partners.decide(admin=ADMIN, partner_id=pid, action="approve")
    body, _ = accounts.create_payout_account(user=user, base_url="http://x", gateway=connect)
    accounts.apply_account_update(body["stripe_account_id"], payouts_enabled=True)
    with transaction() as tx:
        recorder.record_sale(tx, order(line(part(pid, amount, 2000)), currency="usd"))
    return pid


def later(days: int) -> None:
    clock.set_now(lambda: T0 + timedelta(days=days))


def test_the_job_pays_under_its_own_budget_and_leaves_the_api_budget_alone(connect):
    earning_partner("ann", connect)
    later(15)
    result = jobs.daily_payout_run(ScheduleEvent(LambdaContext(lambda: PLENTY_MS)))
    assert result["summary"]["paid"] == {"usd": {"count": 1, "amount": 8000}}
    assert result["summary"]["stopped_early"] is False
    job_ddb = JOB_DEADLINES.dynamodb
    assert connect.budgets == [(JOB_DEADLINES, job_ddb.read_seconds, 1 + job_ddb.retries)]
    assert deadlines.current() is API_DEADLINES
    assert connection().client.meta.config.read_timeout == API_DEADLINES.dynamodb.read_seconds


def test_the_job_stops_starting_payouts_when_time_runs_low_and_the_next_run_pays_the_rest(connect):
    earning_partner("ann", connect)
    earning_partner("bob", connect)
    later(15)
    # Plenty of time until the first transfer is sent; then the Lambda is close to its timeout.
    result = jobs.daily_payout_run(ScheduleEvent(LambdaContext(lambda: LOW_MS if connect.transfers else PLENTY_MS)))
    summary = result["summary"]
    assert summary["stopped_early"] is True
    assert summary["paid"] == {"usd": {"count": 1, "amount": 8000}} and summary["partners_considered"] == 1
    run = repository.get_run(result["run_id"])
    assert run.status == model.COMPLETED
    assert len(connect.transfers) == 1
    # Tomorrow's run pays the partner it did not reach, and nobody twice.
    later(16)
    tomorrow = jobs.daily_payout_run(ScheduleEvent(LambdaContext(lambda: PLENTY_MS)))
    assert tomorrow["summary"]["paid"] == {"usd": {"count": 1, "amount": 8000}}
    assert sorted(connect.paid_by_destination().values()) == [1, 1]


def test_a_pending_payout_waits_for_a_run_with_time_to_settle_it(connect):
    pid = earning_partner("ann", connect)
    later(15)
    connect.unreachable.add(f"acct_fake_{pid}")
    first = service.run_payouts(actor="finance-1", currency="usd", gateway=connect)
    assert first.summary["pending"] == 1 and connect.transfers == {}
    connect.unreachable.clear()
    out_of_time = jobs.daily_payout_run(ScheduleEvent(LambdaContext(lambda: LOW_MS)))
    assert out_of_time["summary"]["resumed"] == 0 and out_of_time["summary"]["stopped_early"] is True
    assert connect.transfers == {}
    assert [p.status for p in repository.run_payouts(first.run_id)] == [model.PENDING]
    resumed = service.run_payouts(actor="finance-1", currency="usd", gateway=connect, time_left=UNLIMITED)
    assert resumed.summary["resumed"] == 1 and resumed.summary["paid"] == {"usd": {"count": 1, "amount": 8000}}
    assert [p.status for p in repository.run_payouts(first.run_id)] == [model.PAID]


def test_a_run_started_from_the_api_starts_nothing_once_its_seconds_are_spent(connect):
    earning_partner("ann", connect)
    later(15)
    spent = service.run_payouts(actor="finance-1", currency="usd", gateway=connect,
                                time_left=TimeLeft.for_seconds(0))
    assert spent.status == model.COMPLETED and spent.summary["stopped_early"] is True
    assert spent.summary["partners_considered"] == 0 and connect.transfers == {}


def test_the_deployed_handler_hands_the_lambda_clock_to_the_run(client, connect):
    """Through app.py as Lambda invokes it: chalice's test context allows 3 s, under the 60 s margin."""
    earning_partner("ann", connect)
    later(15)
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:us-east-1:1:rule/daily-payout-run"])
    result = client.lambda_.invoke("daily-payout-run", event).payload
    assert result["summary"]["stopped_early"] is True and connect.transfers == {}
    assert repository.get_run(result["run_id"]).status == model.COMPLETED
