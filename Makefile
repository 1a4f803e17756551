# The README's two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1
# A virtual environment of requirements.txt alone, outside the checkout and keyed by its hash: `make test` boots the
# production-like run from it, so a runtime dependency missing from requirements.txt fails the suite. A clean clone
# reuses it (seconds after the first build).
RUNTIME_VENV := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/yiwangtongban/runtime-$(shell cat requirements.txt | sha256sum | cut -c1-16)

.PHONY: run test lint format messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

## Set everything up and run the portal on the embedded default (SQLite, filesystem broker).
run: $(VENV)/.runtime-installed
	VENV=$(VENV) ./bin/run --prepare

## Run the whole test suite (lint, unit, integration with a real worker, browser) on PostgreSQL and Redis.
test: $(VENV)/.dev-installed $(RUNTIME_VENV)/.runtime-installed
	$(MAKE) --no-print-directory lint
	RUNTIME_VENV=$(RUNTIME_VENV) $(BIN)/pytest
	@# What must behave the same on the embedded default runs again on SQLite.
	mkdir -p var && rm -f var/test-sqlite.sqlite3*
	DATABASE_URL=sqlite:///$(CURDIR)/var/test-sqlite.sqlite3 $(BIN)/pytest -m both_databases --create-db -p no:cacheprovider

$(RUNTIME_VENV)/.runtime-installed:
	@# The marker is written last: a build that stopped half-way is made again from nothing.
	rm -rf $(RUNTIME_VENV) && mkdir -p $(dir $(RUNTIME_VENV))
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --upgrade pip
	$(RUNTIME_VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache
	DEBUG=true DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(VENV)/.bench-installed: requirements.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

.PHONY: bench bench-quick
## Benchmarks on PostgreSQL and Redis with production settings: every figure, bench/results.json (see bench/README.md).
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench.run --profile

## The reduced benchmark run, under 3 minutes once its database exists.
bench-quick: $(VENV)/.bench-installed
	$(BIN)/python -m bench.run --quick

## Refresh the translation catalogues after changing user-facing text (needs GNU gettext).
messages: $(VENV)/.dev-installed
	DEBUG=true $(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var --ignore=staticfiles --no-obsolete
	DEBUG=true $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
