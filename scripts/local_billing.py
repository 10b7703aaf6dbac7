"""What Stripe.js and Stripe's billing clock do, for subscriptions on `make run` (localstripe cannot do them itself).

    .venv/bin/python scripts/local_billing.py save-card carol        # carol saves a card (before subscribing)
    .venv/bin/python scripts/local_billing.py renew subs_…           # bill the subscription's next period now
    .venv/bin/python scripts/local_billing.py end subs_…             # the period is over: Stripe ends it

localstripe charges a subscription's first invoice with the customer's saved card when the subscription is
created (it has no `default_incomplete`), never renews a subscription, and ends one only when asked. These
commands make those calls on localstripe; localstripe then sends its own signed events (`invoice.payment_succeeded`,
`customer.subscription.deleted`) to the local API, which records them like any other. Ports as for `make run`
(`MARKET_API_PORT`, `MARKET_DDB_PORT`, `MARKET_STRIPE_PORT`).
"""
from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.run_local import LOCAL_STRIPE_KEY, local_env, port  # noqa: E402


def _stripe(base: str, method: str, path: str, params: dict | None = None) -> dict:
    data = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {LOCAL_STRIPE_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save-card", "renew", "end"):
        print(__doc__)
        return 2
    api, ddb, stripe = port("MARKET_API_PORT", 8000), port("MARKET_DDB_PORT", 8001), port("MARKET_STRIPE_PORT", 8420)
    os.environ.update(local_env(api, ddb, stripe))
    from chalicelib import bootstrap
    from chalicelib.payments.gateway import get_gateway
    from chalicelib.subscriptions import repository
    from chalicelib.subscriptions.subscribing import ensure_customer

    bootstrap.configure()
    base = f"http://127.0.0.1:{stripe}"
    command, target = argv
    if command == "save-card":
        customer = ensure_customer(target, get_gateway())
        card = _stripe(base, "POST", "/v1/payment_methods/pm_card_visa/attach", {"customer": customer})
        _stripe(base, "POST", f"/v1/customers/{customer}", {"invoice_settings[default_payment_method]": card["id"]})
        print(f"{target}: Stripe customer {customer} has card {card['id']} (visa) as its default")
        return 0
    sub = repository.get(target)
    if sub is None:
        print(f"no subscription {target}")
        return 1
    if command == "renew":
        invoice = _stripe(base, "POST", "/v1/invoices", {"customer": sub.stripe_customer_id,
                                                         "subscription": sub.stripe_subscription_id})
        paid = _stripe(base, "POST", f"/v1/invoices/{invoice['id']}/pay")
        print(f"{target}: invoice {paid['id']} {paid['status']} ({paid['amount_paid']} {paid['currency']}); "
              "localstripe sends invoice.payment_succeeded to the API in about a second")
        return 0
    ended = _stripe(base, "DELETE", f"/v1/subscriptions/{sub.stripe_subscription_id}")
    print(f"{target}: Stripe subscription {ended['id']} {ended['status']}; "
          "localstripe sends customer.subscription.deleted to the API in about a second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
