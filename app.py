"""The Chalice application: registers each aggregate's routes and the scheduled jobs, nothing else."""
from chalice import Chalice

from chalicelib import ops_routes
from chalicelib.audit import routes as audit_routes
from chalicelib.catalog import routes as catalog_routes
from chalicelib.partners import routes as partner_routes

app = Chalice(app_name="marketplace")

for module in (ops_routes, partner_routes, audit_routes, catalog_routes):
    app.register_blueprint(module.router.blueprint)
