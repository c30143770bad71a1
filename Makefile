# Two commands do everything on a fresh machine:
#   make run   - create .venv, install, start the platform on the embedded default
#   make test  - create .venv, install, run every check (lint, types, tests)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck pytest install install-dev geo-data clean help

help:
	@echo "make run   - start the platform at http://127.0.0.1:8050/ (embedded: chDB + SQLite)"
	@echo "make test  - lint, type-check and run the whole test suite"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) -m vaxviet serve

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install-dev
	$(PY) -m mypy

pytest: install-dev
	$(PY) -m pytest

test: lint typecheck pytest

# Rebuild geo/data/ from the shared source data (not needed to run or test: the output is committed).
geo-data: install
	$(PY) -m geo build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
