# Developer entry points. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test check lock token package bench clean

# Installs come from the lock files (every package pinned, every file hash-checked), never from the
# requirements files directly; `make lock` turns the requirements files into locks (docs/operations.md).
# scripts/lock.py --check refuses a lock made from other requirements than today's.
$(STAMP): requirements.txt requirements-dev.txt requirements-dev.lock
	$(PYTHON) scripts/lock.py --check requirements-dev.lock requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "pip<26.3"
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	touch $(STAMP)

# checkov pins boto3 1.35 (the runtime needs 1.44), so it gets a venv of its own; `make test` runs it on
# the packaged template (tests/infra/test_checkov.py). About 30 s to install once.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements-checkov.txt requirements-checkov.lock
	$(PYTHON) scripts/lock.py --check requirements-checkov.lock
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q "pip<26.3"
	$(CHECKOV_VENV)/bin/python -m pip install -q --require-hashes -r requirements-checkov.lock
	touch $(CHECKOV_STAMP)

# The lock tool (uv), itself pinned with hashes, in a venv of its own: `make lock` does not need .venv.
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv

$(UV): requirements-uv.lock
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --require-hashes -r requirements-uv.lock
	touch $(UV)

## make lock: after editing a requirements*.txt file, re-pin (keeps every pin it can; a few seconds).
## make lock UPGRADE=1 re-resolves every pin to the newest allowed version.
lock: $(UV)
	$(PYTHON) scripts/lock.py --uv $(UV) $(if $(UPGRADE),--upgrade)

## make run: local DynamoDB (moto_server) + local Stripe (localstripe) + the API, seeded with demo data
run: $(STAMP)
	$(PY) scripts/run_local.py

## make test: `make check`, then every test (unit, integration under moto, API through chalice.test,
## localstripe, the local stack, checkov, the locked package)
test: check $(CHECKOV_STAMP)
	@# tests/browser renders /docs in Debian's headless Chromium (root installs it once; CI is root too)
	test -x /usr/bin/chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	$(PY) -m pytest -q

## make check: lint (ruff: pyflakes and pycodestyle errors, see pyproject.toml) and the types of the Stripe
## adapters (mypy --strict against stripe's own typed request parameters)
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy chalicelib/payments/stripe_gateway.py chalicelib/payouts/stripe_connect.py

## make token SUB=alice [GROUPS=admin,finance] [EMAIL=a@example.com]: a bearer token for the local stage
token: $(STAMP)
	@$(PY) scripts/make_token.py --sub "$(SUB)" --groups "$(GROUPS)" --email "$(EMAIL)"

## make package STAGE=dev|prod: the CloudFormation (SAM) template and code bundle in out/$(STAGE)/; the
## bundled dependencies are exactly requirements.lock's (hash-checked)
package: $(STAMP)
	$(PY) scripts/package_locked.py --stage $(STAGE)

## make bench: cold start, warm latency (each over a floor measured in the same run), DynamoDB cost per route,
## catalog page cost at 100 and 10,000 listings, payout-run and reconciliation scale (docs/performance.md)
bench: $(STAMP)
	@echo "== machine: $$(date -u '+%Y-%m-%d %H:%M UTC'), $$(nproc) CPUs, $$($(PY) --version)"; free -h; uptime
	$(PY) bench/bench_cold.py
	$(PY) bench/bench_warm.py
	$(PY) bench/bench_routes.py
	$(PY) bench/bench_catalog_scale.py
	@# the payout run over 1,000 and 10,000 partners takes ~13 min (moto reads every item on an index Query)
	$(PY) bench/bench_payouts.py --sizes 1000,10000 --check-partners 300
	@if [ -f bench/bench_reconciliation.py ]; then echo "$(PY) bench/bench_reconciliation.py --quick"; $(PY) bench/bench_reconciliation.py --quick; fi

clean:
	rm -rf .run out .pytest_cache .hypothesis
