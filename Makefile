# Developer entry points. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test token package bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "pip<26.3"
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

# checkov pins boto3 1.35 (the runtime needs 1.44), so it gets a venv of its own; `make test` runs it on
# the packaged template (tests/infra/test_checkov.py). About 30 s to install once.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q "pip<26.3"
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

## make run: local DynamoDB (moto_server) + local Stripe (localstripe) + the API, seeded with demo data
run: $(STAMP)
	$(PY) scripts/run_local.py

## make test: every test (unit, integration under moto, API through chalice.test, localstripe, checkov)
test: $(STAMP) $(CHECKOV_STAMP)
	$(PY) -m pytest -q

## make token SUB=alice [GROUPS=admin,finance] [EMAIL=a@example.com]: a bearer token for the local stage
token: $(STAMP)
	@$(PY) scripts/make_token.py --sub "$(SUB)" --groups "$(GROUPS)" --email "$(EMAIL)"

## make package STAGE=dev|prod: the CloudFormation (SAM) template and code bundle in out/$(STAGE)/
package: $(STAMP)
	$(PY) scripts/package.py --stage $(STAGE)

## make bench: cold start, warm latency (each over a floor measured in the same run), DynamoDB cost per route,
## catalog page cost at 100 and 10,000 listings, payout-run and reconciliation scale (docs/performance.md)
bench: $(STAMP)
	@echo "== machine: $$(date -u '+%Y-%m-%d %H:%M UTC'), $$(nproc) CPUs, $$($(PY) --version)"; free -h; uptime
	$(PY) bench/bench_cold.py
	$(PY) bench/bench_warm.py
	$(PY) bench/bench_routes.py
	$(PY) bench/bench_catalog_scale.py
	@if [ -f bench/bench_payouts.py ]; then echo "$(PY) bench/bench_payouts.py --quick"; $(PY) bench/bench_payouts.py --quick; fi
	@if [ -f bench/bench_reconciliation.py ]; then echo "$(PY) bench/bench_reconciliation.py --quick"; $(PY) bench/bench_reconciliation.py --quick; fi

clean:
	rm -rf .run out .pytest_cache .hypothesis
