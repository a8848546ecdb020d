# The two commands: `make run` (the service, with demo data) and `make test` (the whole suite).
# Each installs what it needs on first use: a virtualenv in .venv/ and node_modules/ via npm ci.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_ARGS ?= --demo
PYTEST_ARGS ?=
CHROMIUM ?= /usr/bin/chromium
# Chinese text in the browser tests' screenshots (Debian package fonts-noto-cjk)
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
# the front end (frontend/, Vite) builds into the Python package, which serves it at /app/
FRONTEND_BUILD := mobile_api/static/app/index.html
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f -not -path '*/generated/*' 2>/dev/null) \
	frontend/index.html frontend/apply.html frontend/officials.html frontend/vite.config.js \
	$(wildcard models/catalogue/*.json)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench install constraints clean

run: install
	$(BIN)/fieldsync run $(RUN_ARGS)

test: install $(CHROMIUM) $(CJK_FONT) lint
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff with the configuration in pyproject.toml; `make test` lints first, so CI lints
lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

install: $(VENV)/.installed node_modules/.installed $(FRONTEND_BUILD)

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
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk

$(CJK_FONT):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
	@touch $@

$(FRONTEND_BUILD): frontend/node_modules/.installed $(FRONTEND_SOURCES)
	npm run build --prefix frontend

constraints:
	$(PYTHON) -m venv --clear /tmp/fieldsync-constraints
	/tmp/fieldsync-constraints/bin/pip install --quiet -e '.[test]'
	/tmp/fieldsync-constraints/bin/pip freeze --exclude-editable | grep -v '^fieldsync' > constraints.txt

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .hypothesis frontend/node_modules mobile_api/static/app
