"""Telemetry: JSON log lines (with the request id) and CloudWatch EMF business metrics, on stdout.

A foundation package (it imports only `config` and `core`): `http` opens and closes a request's log scope,
services count their business events through `metrics.count`, and `app.py` installs both.
"""
