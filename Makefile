# Behavior Sync: local Airflow, tests and demo data. `make help` lists the targets.
# Everything runs inside .venv (Python 3.11), created on demand by scripts/bootstrap.sh.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON_BIN  := .venv/bin/python
PYTEST_ARGS ?=
AS_OF       ?= $(shell date -u +%F)
SEED        ?= 42
CUSTOMERS   ?= 100000
LOCK_PYTHON ?= $(or $(BEHAVIOR_SYNC_PYTHON),python3.11)

.PHONY: help run start stop rotate-fernet-key test browser lint validate demo-data bench lock clean bootstrap

help: ## list the targets
	@echo "Behavior Sync. Usage: make <target> [VAR=value]"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 21
	@echo
	@echo "Variables: PYTEST_ARGS (test), AS_OF SEED CUSTOMERS (demo-data), BEHAVIOR_SYNC_PORT (run/start, default 8080)"

run: ## install, prepare and start Airflow in the foreground (Ctrl-C stops it)
	@scripts/run.sh

start: ## like run, but return once Airflow is up (stop it with make stop)
	@BEHAVIOR_SYNC_DETACH=1 scripts/run.sh

stop: ## stop the Airflow started by make run / make start
	@scripts/stop.sh

rotate-fernet-key: bootstrap ## re-encrypt connections and variables in .airflow/ with a new Fernet key (Airflow stopped)
	@scripts/rotate_fernet_key.sh

test: bootstrap browser lint ## static checks, then the whole test suite (what CI runs); e.g. PYTEST_ARGS="-k history -x"
	$(PYTHON_BIN) -m pytest $(PYTEST_ARGS)

lint: bootstrap ## ruff (lint + format check) and mypy --strict (config in pyproject.toml)
	.venv/bin/ruff check plugins dags tests sandbox
	.venv/bin/ruff format --check plugins dags tests sandbox
	.venv/bin/mypy

validate: bootstrap ## check every behavior and import file (include/behaviors, include/imports)
	$(PYTHON_BIN) -m behavior_sync validate

demo-data: bootstrap ## regenerate data/warehouse.duckdb (AS_OF=YYYY-MM-DD, default today; SEED=42; CUSTOMERS=100000)
	$(PYTHON_BIN) -m behavior_sync demo-warehouse --path "$(CURDIR)/data/warehouse.duckdb" \
	    --seed $(SEED) --as-of $(AS_OF) --customers $(CUSTOMERS)

bench: bootstrap ## benchmarks (identity 100k/1M members, sync engine 1M and 10M, the page at 500 behaviors; ~13 min): bench-reports/*.md
	$(PYTHON_BIN) -m tests.bench --out bench-reports

browser: ## install Debian's chromium + chromium-driver for the browser test when missing (apt, root)
	@scripts/browser.sh

bootstrap: ## create or refresh .venv (fast when the requirements did not change)
	@scripts/bootstrap.sh

# A fresh temporary venv gets the direct requirements without the -c line, so pip resolves
# every transitive version anew; the lock is its freeze (minus pip/setuptools/wheel and the
# project) under the existing header comment.
lock: ## recreate constraints.txt from a fresh resolve (needs the network; takes minutes)
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	echo "lock: resolving in $$tmp/venv with $(LOCK_PYTHON)"; \
	$(LOCK_PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip; \
	for f in requirements.txt requirements-dev.txt; do grep -v -E '^[[:space:]]*-c[[:space:]]' "$$f" >"$$tmp/$$f"; done; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off \
	    -r "$$tmp/requirements.txt" -r "$$tmp/requirements-dev.txt"; \
	{ head -n 1 constraints.txt; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable \
	    | grep -v -i -E '^(pip|setuptools|wheel|behavior[-_]sync)([=@ ]|$$)'; } >"$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" constraints.txt; \
	echo "lock: constraints.txt has $$(grep -c '==' constraints.txt) pins; review with git diff constraints.txt"

clean: stop ## stop Airflow, then delete .airflow/ (metadata DB, logs, passwords) and data/
	rm -rf .airflow data
