# orderguard: `make help` lists the targets. Every target creates .venv on first use.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "orderguard needs Python 3.11+"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: install
install: $(STAMP) ## create .venv and install orderguard with its dev tools

.PHONY: run
run: $(STAMP) ## the main job: the end-to-end demo on ./orderguard.db
	$(BIN)/orderguard demo

.PHONY: test
test: $(STAMP) ## run the whole test suite (starts a throwaway PostgreSQL)
	$(BIN)/python -m pytest -q

.PHONY: lint
lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: types
types: $(STAMP) ## mypy --strict
	$(BIN)/mypy

.PHONY: check
check: lint types test ## everything CI runs: lint, types, tests

.PHONY: bench
bench: $(STAMP) ## run every benchmark script under benchmarks/ (results go to docs/benchmarks.md by hand)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

.PHONY: clean
clean: ## remove the virtual environment, caches and the demo database
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache orderguard.db orderguard.db-* orderguard.db.*
