"""The Chalice application: registers each aggregate's routes and the scheduled jobs, nothing else."""
from chalice import Chalice

from chalicelib import ops_routes
from chalicelib.audit import routes as audit_routes
from chalicelib.catalog import routes as catalog_routes
from chalicelib.entitlements import routes as entitlement_routes
from chalicelib.orders import routes as order_routes
from chalicelib.partners import routes as partner_routes
from chalicelib.webhooks import routes as webhook_routes

app = Chalice(app_name="marketplace")

for module in (ops_routes, partner_routes, audit_routes, catalog_routes,
               order_routes, entitlement_routes, webhook_routes):
    app.register_blueprint(module.router.blueprint)
