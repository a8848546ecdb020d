# The two commands: `make run` (the service, with demo data) and `make test` (the whole suite).
# Each installs what it needs on first use: a virtualenv in .venv/ and node_modules/ via npm ci.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_ARGS ?= --demo
PYTEST_ARGS ?=
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench install constraints clean

run: install
	$(BIN)/fieldsync run $(RUN_ARGS)

test: install $(CHROMIUM) lint
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff with the configuration in pyproject.toml; `make test` lints first, so CI lints
lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

install: $(VENV)/.installed node_modules/.installed

# constraints.txt pins every Python package (refresh: `make constraints`, then run `make test`)
$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

# the officials' page is tested in a real headless Chromium (Debian's package; npm's
# browser downloads cannot work here)
$(CHROMIUM):
	@echo "installing Chromium for the browser tests (Debian package chromium)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

constraints:
	$(PYTHON) -m venv --clear /tmp/fieldsync-constraints
	/tmp/fieldsync-constraints/bin/pip install --quiet -e '.[test]'
	/tmp/fieldsync-constraints/bin/pip freeze --exclude-editable | grep -v '^fieldsync' > constraints.txt

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .hypothesis
