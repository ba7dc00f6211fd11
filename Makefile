# The README's commands. `make run` sets up and runs Fermentrack; `make test` sets up and runs
# every test. Both create the virtual environment in .venv when it is missing or stale.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

$(BIN)/fermentrack: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/fermentrack
	$(BIN)/fermentrack try-chamber

test: $(BIN)/fermentrack lint
	$(BIN)/pytest -q

lint: $(BIN)/fermentrack
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(BIN)/fermentrack
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(BIN)/fermentrack
	$(BIN)/python bench/control_quality.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
