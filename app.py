"""The Chalice application: wires the adapters, registers each aggregate's routes and the scheduled jobs."""
from chalice import Chalice, Rate

from chalicelib import bootstrap, ops_routes
from chalicelib.audit import routes as audit_routes
from chalicelib.catalog import routes as catalog_routes
from chalicelib.entitlements import routes as entitlement_routes
from chalicelib.ledger import routes as ledger_routes
from chalicelib.orders import routes as order_routes
from chalicelib.partners import routes as partner_routes
from chalicelib.payouts import jobs as payout_jobs
from chalicelib.payouts import routes as payout_routes
from chalicelib.reconciliation import routes as reconciliation_routes
from chalicelib.reports import routes as report_routes
from chalicelib.reviews import routes as review_routes
from chalicelib.webhooks import routes as webhook_routes

bootstrap.configure()
app = Chalice(app_name="marketplace")

for module in (ops_routes, partner_routes, audit_routes, catalog_routes, ledger_routes, review_routes,
               order_routes, entitlement_routes, webhook_routes, payout_routes, reconciliation_routes,
               report_routes):
    app.register_blueprint(module.router.blueprint)


@app.schedule(Rate(1, unit=Rate.DAYS), name="daily-payout-run")
def daily_payout_run(event):
    return payout_jobs.daily_payout_run(event)
