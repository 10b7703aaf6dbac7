"""Cold start: what importing `app` costs is what every route pays, so it holds only what routing needs.

Each check runs in a fresh interpreter (this test process has long since imported everything): importing
`app` registers every route without importing a service, a repository, the table model (pynamodb), Stripe,
jsonschema or PyJWT; a public route that needs none of them answers without importing them; and each
request schema's validator is compiled once, on first use. Garbage collection is off from the end of the
import to the end of the first invocation, then on again for good, with what the cold start built frozen.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.http import validation

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pynamodb", "stripe", "jsonschema", "jwt", "cryptography", "boto3")

_CHILD = """
import gc, json, sys
from app import app
loaded_at_import = sorted(sys.modules)
gc_at_import = gc.isenabled()
event = {"resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
         "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "requestId": "cold-test"}}
response = app(event, None)
sys.stdout.write("RESULT " + json.dumps({"status": response["statusCode"], "at_import": loaded_at_import,
                                         "after_health": sorted(sys.modules), "gc_at_import": gc_at_import,
                                         "gc_after": gc.isenabled(), "frozen": gc.get_freeze_count()}) + "\\n")
"""


def _fresh_interpreter() -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ), timeout=120, check=True)
    line = next(text for text in done.stdout.splitlines() if text.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _top_level(modules: list[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_app_registers_routes_without_services_storage_or_sdks():
    found = _fresh_interpreter()
    assert _top_level(found["at_import"]).isdisjoint(HEAVY)
    ours = [m for m in found["at_import"] if m.startswith("chalicelib.")]
    assert "chalicelib.catalog.routes" in ours and "chalicelib.orders.routes" in ours
    storage_or_use_cases = [m for m in ours if m.startswith("chalicelib.db") or m.rsplit(".", 1)[-1] in (
        "service", "repository", "queries", "browse", "lifecycle", "decisions", "placing", "refunds", "jobs")
        and not m.startswith(("chalicelib.telemetry", "chalicelib.jobs"))]  # the job registry is a dict
    assert storage_or_use_cases == []


def test_a_public_route_without_storage_or_input_imports_none_of_them():
    found = _fresh_interpreter()
    assert found["status"] == 200
    assert _top_level(found["after_health"]).isdisjoint(HEAVY)


def test_garbage_collection_waits_for_the_end_of_the_first_invocation_then_runs_as_usual():
    found = _fresh_interpreter()
    assert found["gc_at_import"] is False
    assert found["gc_after"] is True
    assert found["frozen"] > 10_000  # the modules, the app and its routes: out of every later pass


def test_each_schema_validator_is_compiled_once_and_reused(monkeypatch):
    monkeypatch.setattr(validation, "_validators", {})
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": False}
    first = validation._validator(schema)
    validation.validate(schema, {"n": 1})
    validation.validate(schema, {"n": 2})
    assert validation._validator(schema) is first
    assert list(validation._validators) == [id(schema)]
