# Two commands do everything on a fresh machine:
#   make run   - create .venv, install, start the platform on the embedded default
#   make test  - create .venv, install, run every check (lint, types, tests)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck pytest install install-dev bench-tools browser fonts front js geo-data geo-check clean help

help:
	@echo "make run   - start the platform at http://127.0.0.1:8050/ (embedded: chDB + SQLite)"
	@echo "make test  - lint, type-check and run the whole test suite"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

# Headless Chromium for the browser tests (Debian packages; needs root or sudo). Without
# it the browser tests skip locally and fail under CI=true.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium and chromium-driver (apt)"; \
		apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }; \
	else echo "chromium not installed: browser tests will be skipped (install chromium and chromium-driver)"; fi

# The front that takes every connection, queues and sheds (vaxviet/front.py): HAProxy, a
# Debian package. Without it `make run` serves without a front; its tests fail under CI=true.
front:
	@if command -v haproxy >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing haproxy (apt)"; \
		apt-get install -y -q --no-install-recommends haproxy >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends haproxy >/dev/null; }; \
	else echo "haproxy not installed: the platform serves without its front (see docs/scaling.md)"; fi

# A font with every Vietnamese letter for the printable certificate (PDF): DejaVu Sans.
fonts:
	@if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing fonts-dejavu-core (apt)"; \
		apt-get install -y -q --no-install-recommends fonts-dejavu-core >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends fonts-dejavu-core >/dev/null; }; \
	else echo "fonts-dejavu-core not installed: certificate PDFs answer 503 until it is"; fi

# The browser parts the platform serves itself, from the npm registry (package.json, locked):
# jsQR, the verifier page's QR decoder for the camera and uploads; axe-core, the tests'
# accessibility checker. Without npm the verifier decodes only where the browser has a
# native barcode detector; its tests fail under CI=true.
js: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not installed: the verifier page cannot decode QR codes (install Node.js)"; fi

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
	@if command -v $(CC) >/dev/null; then $(MAKE) -s bench-tools; \
	else echo "no C compiler: the load generator (bench/loadgen) is not built"; fi

# The benchmarks' load generator (bench/loadgen/loadgen.c), a native binary in the venv.
LOADGEN := $(VENV)/bin/vaxviet-loadgen
bench-tools: $(LOADGEN)
$(LOADGEN): bench/loadgen/loadgen.c | $(PY)
	$(CC) -O2 -Wall -o $@ $< -lm

# The demo registry: a simulated national campaign at this share of the real volume
# (0.01 = ~2.7 M doses), seeded on the first `make run` only.
DEMO_SCALE ?= 0.01

run: install fonts front js
	$(PY) -m registry seed --scale $(DEMO_SCALE) --if-empty
	$(PY) -m dashboards users demo
	$(PY) -m vaxviet serve

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install-dev
	$(PY) -m mypy

pytest: install-dev browser fonts front js
	$(PY) -m pytest

test: lint typecheck pytest

# Rebuild geo/data/ from the shared source data (not needed to run or test: the output is
# committed). geo-check proves the build reproduces the committed files byte for byte.
geo-data: install
	$(PY) -m geo build

geo-check: install
	rm -rf var/geo-check && $(PY) -m geo build --out var/geo-check
	diff -r geo/data var/geo-check && echo "geo/data is reproducible"

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache
