"""Business metrics as CloudWatch Embedded Metric Format (EMF) lines on stdout, through Powertools Metrics.

Services call `count(NAME)` once, right after the transaction of the business event commits; the metrics
of one invocation are written as one EMF line when it ends (`flush`, called by the HTTP middleware and the
scheduled job's wrapper). CloudWatch Logs turns those lines into metrics in the `Marketplace` namespace
with the single dimension `service=marketplace`; `RouteLatency` adds `route` and is written at once.

Nothing here needs a Lambda context, and nothing here may fail a request whose change has committed:
a metric that cannot be recorded is logged and dropped. A lock guards Powertools' shared metric set,
because `chalice local` serves requests on threads.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics import Metrics

NAMESPACE = "Marketplace"
SERVICE = "marketplace"

ORDERS_PLACED = "OrdersPlaced"
ORDERS_PAID = "OrdersPaid"
ORDERS_FAILED = "OrdersFailed"
WEBHOOK_EVENTS_APPLIED = "WebhookEventsApplied"
WEBHOOK_EVENTS_DUPLICATE = "WebhookEventsDuplicate"
WEBHOOK_SIGNATURES_REJECTED = "WebhookSignaturesRejected"
REFUNDS_ISSUED = "RefundsIssued"
PAYOUTS_PAID = "PayoutsPaid"
PAYOUTS_FAILED = "PayoutsFailed"
PAYOUT_RUNS_COMPLETED = "PayoutRunsCompleted"
RECONCILIATION_DISCREPANCIES = "ReconciliationDiscrepancies"
ROUTE_LATENCY = "RouteLatency"
SUBSCRIPTIONS_STARTED = "SubscriptionsStarted"
SUBSCRIPTION_INVOICES_PAID = "SubscriptionInvoicesPaid"
PARTNER_WEBHOOKS_DELIVERED = "PartnerWebhooksDelivered"
PARTNER_WEBHOOK_ATTEMPTS_FAILED = "PartnerWebhookAttemptsFailed"
PARTNER_WEBHOOKS_FAILED = "PartnerWebhooksFailed"

COUNTS = (ORDERS_PLACED, ORDERS_PAID, ORDERS_FAILED, WEBHOOK_EVENTS_APPLIED, WEBHOOK_EVENTS_DUPLICATE,
          WEBHOOK_SIGNATURES_REJECTED, REFUNDS_ISSUED, PAYOUTS_PAID, PAYOUTS_FAILED, PAYOUT_RUNS_COMPLETED,
          RECONCILIATION_DISCREPANCIES, SUBSCRIPTIONS_STARTED, SUBSCRIPTION_INVOICES_PAID,
          PARTNER_WEBHOOKS_DELIVERED, PARTNER_WEBHOOK_ATTEMPTS_FAILED, PARTNER_WEBHOOKS_FAILED)

log = logging.getLogger("marketplace.metrics")
_lock = threading.Lock()
_metrics: "Metrics | None" = None


def _get() -> "Metrics":
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools.metrics import Metrics

        _metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
    return _metrics


def count(name: str, value: int = 1) -> None:
    """Record `value` occurrences of a business event (written when the invocation ends)."""
    try:
        with _lock:
            _get().add_metric(name=name, unit="Count", value=value)
    except Exception as exc:  # noqa: BLE001 - the event has committed; losing its metric must not undo the answer
        log.warning("metric %s not recorded: %r", name, exc)


def route_latency(route: str, milliseconds: float) -> None:
    """Write one `RouteLatency` line for `route` ("GET /orders/{order_id}") now."""
    try:
        from aws_lambda_powertools.metrics import single_metric
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        if is_metrics_disabled():  # POWERTOOLS_METRICS_DISABLED, which `single_metric` ignores
            return
        with single_metric(name=ROUTE_LATENCY, unit="Milliseconds", value=round(milliseconds, 3),
                           namespace=NAMESPACE, default_dimensions={"service": SERVICE, "route": route}):
            pass
    except Exception as exc:  # noqa: BLE001 - see count()
        log.warning("metric %s not recorded: %r", ROUTE_LATENCY, exc)


def flush() -> None:
    """Write this invocation's business metrics as one EMF line (nothing when none were recorded)."""
    try:
        with _lock:
            metrics = _get()
            if metrics.metric_set:
                try:
                    metrics.flush_metrics()
                finally:
                    metrics.clear_metrics()  # a set that cannot be written must not grow across invocations
    except Exception as exc:  # noqa: BLE001 - see count()
        log.warning("metrics not flushed: %r", exc)
