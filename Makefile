# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := webapp/static/vendor
export SEK_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint bench install install-test static translations messages browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

## front-end packages from npm (pinned in package-lock.json), copied into the git-ignored static folder
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bootstrap
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   $(VENDOR)/bootstrap/
	mkdir -p $(VENDOR)/bpmn-js $(VENDOR)/chart.js
	cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js \
	   node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets/. $(VENDOR)/bpmn-js/assets/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.js/
	touch $@

static: $(VENDOR)/.installed

## compile the .po catalogs of webapp/translations into .mo files
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d webapp/translations

## re-extract the UI strings and merge them into the .po catalogs (for translators)
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --sort-output -o webapp/translations/messages.pot webapp
	$(BIN)/pybabel update -N --ignore-obsolete -i webapp/translations/messages.pot -d webapp/translations

install: $(VENV)/.installed static translations

install-test: $(VENV)/.installed-test static translations

## Debian's chromium for the browser tests (never a downloaded browser), and the curl and
## openssl the README's webhook example uses (its test runs it)
browser:
	@command -v chromium >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium, curl and openssl with apt-get" >&2; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium curl openssl) >&2; }

## make run: install, migrate, load demo data, serve on http://127.0.0.1:5000 (SQLite default)
run: install
	$(BIN)/sek db upgrade
	$(BIN)/sek demo
	$(BIN)/sek demo --year 2023
	$(BIN)/sek run --host 127.0.0.1 --port 5000

lint: install-test
	$(BIN)/ruff check .

## make test: lint, then every test on SQLite and (when it answers) PostgreSQL, browser tests included,
## in TEST_WORKERS processes (pytest-xdist; every test has its own database, server and browser page)
TEST_WORKERS ?= 2
test: install-test lint browser
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(.ci/postgres-up)}" $(BIN)/pytest -q -n $(TEST_WORKERS)

## make bench: the quality-bar benchmarks of DESIGN.md (not part of make test)
bench: install-test
	$(BIN)/pip install -q -e '.[bench]'
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(.ci/postgres-up)}" $(BIN)/python -m bench

clean:
	rm -rf $(VENV) data .pytest_cache node_modules $(VENDOR)
