# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SEK_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: install, migrate, load demo data, serve on http://127.0.0.1:5000 (SQLite default)
run: install
	$(BIN)/sek db upgrade
	$(BIN)/sek demo
	$(BIN)/sek run --host 127.0.0.1 --port 5000

lint: install-test
	$(BIN)/ruff check .

## make test: lint, then every test on SQLite and (when it answers) PostgreSQL
test: install-test lint
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(.ci/postgres-up)}" $(BIN)/pytest -q

## make bench: the quality-bar benchmarks of DESIGN.md (not part of make test)
bench: install-test
	$(BIN)/pip install -q -e '.[bench]'
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(.ci/postgres-up)}" $(BIN)/python -m bench

clean:
	rm -rf $(VENV) data .pytest_cache
