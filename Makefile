# Portail ORSEC — the two commands: `make run` (demo portal) and `make test` (whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell (command -v pyenv >/dev/null && pyenv which python 2>/dev/null) || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ENV := ORSEC_DEMO=true

.PHONY: help install install-dev run serve test test-pg check sbom bench bench-live clean-demo

help:
	@echo "make run      installe, prépare la base SQLite, charge la démo et sert http://$(HOST):$(PORT)"
	@echo "make test     installe et lance toute la suite de tests (SQLite ; DATABASE_URL pour PostgreSQL)"
	@echo "make check    analyse statique : ruff, mypy, import-linter, bandit, migrations"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 ou plus récent est nécessaire (trouvé " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25"

$(VENV)/.installed-run: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	@touch $@

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

# The background worker (reminders and escalation of unacknowledged deliveries, outbound
# delivery to partner endpoints) runs alongside the server; Ctrl-C stops both (the trap ends the worker when the server exits).
run: install
	@$(DEMO_ENV) $(BIN)/python manage.py prepare_demo
	@$(DEMO_ENV) $(BIN)/python manage.py schedule_ack_checks --verbosity 0
	@$(DEMO_ENV) $(BIN)/python manage.py schedule_outbound --verbosity 0
	@$(DEMO_ENV) $(BIN)/python manage.py schedule_live_prune --verbosity 0
	@$(DEMO_ENV) $(BIN)/python manage.py db_worker --no-reload --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config orsec
	$(BIN)/lint-imports
	$(BIN)/bandit -q -c pyproject.toml -r config orsec
	$(BIN)/semgrep scan --metrics=off --disable-version-check --error --quiet --config .semgrep/ config orsec templates
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings_test

sbom: install-dev
	@mkdir -p var
	$(BIN)/cyclonedx-py environment --of JSON -o var/sbom.cdx.json $(BIN)/python
	@echo "SBOM CycloneDX : var/sbom.cdx.json"

bench: install-dev
	$(BIN)/python bench/http.py $(BENCH_ARGS)

# Live delivery (PostgreSQL + Redis on loopback); BENCH_ARGS=--quick for the CI-sized run.
bench-live: install-dev
	$(BIN)/python bench/live.py $(BENCH_ARGS)

clean-demo:
	rm -f var/orsec.sqlite3 var/orsec.sqlite3-wal var/orsec.sqlite3-shm var/demo-accounts.json
