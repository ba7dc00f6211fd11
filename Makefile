# The README's commands. `make run` sets up and runs Fermentrack; `make test` sets up and runs
# every test. Both create the virtual environment in .venv when it is missing or stale, and
# fetch the front-end packages (package.json) into the web app's static/vendor/ folder.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/fermentrack/web/static/vendor
VENDOR_FILES := $(VENDOR)/htmx.min.js $(VENDOR)/uPlot.iife.min.js $(VENDOR)/uPlot.min.css
# A PostgreSQL database for the second test run (.ci/run starts one and sets this).
TEST_DATABASE_URL ?=

.PHONY: setup run test test-postgres lint format bench clean

$(BIN)/fermentrack: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# Front-end packages come from the npm registry at set-up time and are never committed.
$(VENDOR_FILES) &: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/uplot/dist/uPlot.iife.min.js \
		node_modules/uplot/dist/uPlot.min.css $(VENDOR)/
	@touch $(VENDOR_FILES)

setup: $(BIN)/fermentrack $(VENDOR_FILES)

run: setup
	$(BIN)/fermentrack quickstart

# Every test on SQLite; then, when TEST_DATABASE_URL names a PostgreSQL database, the web
# tests (the ones that use the database) again on it.
test: setup lint
	env -u DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$(TEST_DATABASE_URL)" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: setup
	DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest -q tests/web

lint: $(BIN)/fermentrack
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(BIN)/fermentrack
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(BIN)/fermentrack
	$(BIN)/python bench/control_quality.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis node_modules $(VENDOR)
