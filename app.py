"""The Chalice application: wires the adapters, registers each aggregate's routes, the schedule and the job worker."""
import gc

from chalice import Chalice, Rate

from chalicelib import bootstrap, ops_routes
from chalicelib.apikeys import routes as apikey_routes
from chalicelib.licences import routes as licence_routes
from chalicelib.audit import routes as audit_routes
from chalicelib.catalog import routes as catalog_routes
from chalicelib.entitlements import routes as entitlement_routes
from chalicelib.http.observe import http_middleware
from chalicelib.ledger import routes as ledger_routes
from chalicelib.orders import routes as order_routes
from chalicelib.partner_feed import routes as partner_feed_routes
from chalicelib.partner_webhooks import routes as partner_webhook_routes
from chalicelib.partners import routes as partner_routes
from chalicelib.payouts import routes as payout_routes
from chalicelib.reconciliation import routes as reconciliation_routes
from chalicelib.reports import routes as report_routes
from chalicelib.reviews import routes as review_routes
from chalicelib.subscriptions import routes as subscription_routes
from chalicelib.telemetry import logs
from chalicelib.telemetry.jobs import job_middleware
from chalicelib.webhooks import routes as webhook_routes

bootstrap.configure()
logs.configure()
# Chalice would set the `marketplace` logger to ERROR without propagation: the JSON logger owns it instead.
app = Chalice(app_name="marketplace", configure_logs=False)
app.register_middleware(http_middleware, "http")
app.register_middleware(job_middleware, "scheduled")

for module in (ops_routes, partner_routes, audit_routes, catalog_routes, ledger_routes, review_routes,
               order_routes, entitlement_routes, webhook_routes, payout_routes, reconciliation_routes,
               report_routes, apikey_routes, licence_routes, subscription_routes, partner_feed_routes,
               partner_webhook_routes):
    app.register_blueprint(module.router.blueprint)

# Cold start: what was imported above lives as long as the process, so no garbage collection pass should scan it
# again (freeze); the first invocation (botocore loading its models, ~40 ms of collections) runs without any, and
# ends by freezing what it built and turning collection back on (see `_after_first_invocation`).
gc.freeze()
gc.disable()
_first_invocation_done = False


def _after_first_invocation(event, get_response):
    """Chalice middleware for every event type: after the container's first invocation, collect as usual."""
    global _first_invocation_done
    try:
        return get_response(event)
    finally:
        if not _first_invocation_done:
            _first_invocation_done = True
            gc.freeze()  # the clients and models built once stay out of later passes too (~250 cycles kept)
            gc.enable()


app.register_middleware(_after_first_invocation, "all")


@app.schedule(Rate(1, unit=Rate.DAYS), name="daily-payout-run")
def daily_payout_run(event):
    from chalicelib.payouts import jobs as payout_jobs

    return payout_jobs.daily_payout_run(event)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="partner-events-sweep")
def partner_events_sweep(event):
    """Re-send partner event fan-outs and webhook deliveries that a dead process left behind."""
    from chalicelib.partner_webhooks import dispatch

    return dispatch.sweep(event)


# Queued work (chalicelib/jobs): up to ten jobs per invocation, failed ones reported one by one
# (scripts/package.py turns on ReportBatchItemFailures and points the source at infra's JobQueue).
@app.on_sqs_message(queue="marketplace-jobs", batch_size=10, name="jobs-worker")
def jobs_worker(event):
    from chalicelib.jobs import worker

    return worker.handle(event)
