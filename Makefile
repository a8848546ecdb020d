# The two commands: `make run` (the service, with demo data) and `make test` (the whole suite).
# Each installs what it needs on first use: a virtualenv in .venv/ and node_modules/ via npm ci.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_ARGS ?= --demo
PYTEST_ARGS ?=

.PHONY: run test bench install clean

run: install
	$(BIN)/fieldsync run $(RUN_ARGS)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .hypothesis
