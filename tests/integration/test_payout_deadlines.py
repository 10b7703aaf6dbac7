"""Payout runs work under the job budget: transfers are sent by the queue's worker with the job deadlines
(the API's are untouched), and the scheduled Lambda only queues the run, so its own timeout no longer
bounds how many partners a run can pay."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.config import API_DEADLINES, JOB_DEADLINES
from chalicelib.core import clock, deadlines
from chalicelib.core.identity import Principal
from chalicelib.db.table import connection
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.partners import service as partners
from chalicelib.payouts import accounts, repository, runs
from chalicelib.payouts.gateway import use_connect
from tests.factories import line, order, part
from tests.fakes import FakeConnect

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
ADMIN = Principal("admin-1", groups=frozenset({"admin"}))


class ObservingConnect(FakeConnect):
    """A fake Connect that notes the budget in force, and the DynamoDB client's, when a transfer is sent."""

    def __init__(self):
        super().__init__()
        self.budgets: list[tuple] = []

    def create_transfer(self, **kwargs):
        cfg = connection().client.meta.config
        self.budgets.append((deadlines.current(), cfg.read_timeout, cfg.retries["total_max_attempts"]))
        return super().create_transfer(**kwargs)


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


def test_the_worker_pays_under_the_job_budget_and_leaves_the_api_budget_alone(connect, jobs):
    earning_partner("ann", connect)
    clock.set_now(lambda: T0 + timedelta(days=15))
    run = runs.start_run(actor="finance-1", currency="usd")
    jobs()
    assert repository.get_run(run.run_id, consistent=True).paid_amounts() == {"usd": 8000}
    job_ddb = JOB_DEADLINES.dynamodb
    assert connect.budgets == [(JOB_DEADLINES, job_ddb.read_seconds, 1 + job_ddb.retries)]
    assert deadlines.current() is API_DEADLINES


def test_the_scheduled_lambda_only_queues_the_run_and_the_worker_completes_it(client, connect, jobs):
    """Through app.py as Lambda invokes it (chalice's test context allows 3 s: enough to queue a run)."""
    earning_partner("ann", connect)
    earning_partner("bob", connect)
    clock.set_now(lambda: T0 + timedelta(days=15))
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:us-east-1:1:rule/daily-payout-run"])
    result = client.lambda_.invoke("daily-payout-run", event).payload
    assert result["status"] == "queued" and connect.transfers == {}
    again = client.lambda_.invoke("daily-payout-run", event).payload  # EventBridge retried the invocation
    assert again == {"run_id": None, "reason": "already_started_today"}
    jobs()
    run = repository.get_run(result["run_id"], consistent=True)
    assert run.status == "completed" and run.progress()["paid"] == 2 and len(connect.transfers) == 2
