"""DynamoDB calls and items read per route: the table `make bench` prints (bench/route_costs.py's scenario).

Runs in-process under moto (`mock_aws`) through chalice.test.Client with the fake payment gateway, as
the API tests do; tests/api/test_route_budgets.py holds the same figures to their budgets.

    .venv/bin/python bench/bench_routes.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The table is the output: the app's per-request log lines and EMF metric lines would bury it.
os.environ["MARKET_LOG_LEVEL"] = "WARNING"
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

import tests.conftest  # noqa: E402,F401  - the test environment (local stage, secrets, no endpoint override)


def main() -> None:
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench.route_costs import table, walk
    from chalicelib.db.table import MarketItem, create_table
    from chalicelib.payments.gateway import set_gateway
    from chalicelib.secrets import StripeSecrets
    from chalicelib.webhooks import service as webhooks
    from tests.factories import STRIPE_KEY, WEBHOOK_SECRET, Api
    from tests.fakes import FakeGateway

    with mock_aws():
        MarketItem._connection = None
        create_table()
        webhooks.get_stripe_secrets = lambda: StripeSecrets(STRIPE_KEY, WEBHOOK_SECRET)
        gateway = FakeGateway()
        set_gateway(gateway)
        with Client(app) as client:
            costs = walk(Api(client), gateway)
    print("DynamoDB calls and items read per request (chalice.test.Client under moto, counted in botocore)")
    print(table(costs))


if __name__ == "__main__":
    main()
