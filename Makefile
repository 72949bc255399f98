# Developer entry points. Everything runs in .venv, created on first use, so a
# fresh clone needs nothing but python3. Stamp files inside .venv record what
# has been installed: re-running a target is fast, editing pyproject.toml
# reinstalls, and removing .venv (`make clean`) starts over.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: demo test lint pyright bench bench-quick bench-curves bench-peers bench-http bench-http-quick serve clean docs docs-serve dist

.venv: $(PY)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[dev]"
	touch $@

$(VENV)/.stamp-bench: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[bench,dev]"
	touch $@

$(VENV)/.stamp-docs: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[dev,docs]"
	touch $@

EXAMPLE_DB := migrations_example/example.sqlite3

## demo: a fresh migrations_example/example.sqlite3, `orm migrate` on it, then the demo
# The orm commands run from migrations_example/ (its pyproject.toml has the
# [tool.orm] settings); the repository root on PYTHONPATH makes its apps importable.
demo: $(VENV)/.stamp-base
	rm -f $(EXAMPLE_DB)
	cd migrations_example && PYTHONPATH=$(CURDIR) $(CURDIR)/$(VENV)/bin/orm migrate
	ORM_DATABASE_URL=sqlite:///$(CURDIR)/$(EXAMPLE_DB) $(PY) -m migrations_example.demo

## test: run the test suite (PostgreSQL too when ORM_TEST_POSTGRES_URL is set)
test: $(VENV)/.stamp-dev
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff (check and format --check), mypy --strict and pyright (basic) on the package, and the import-layer contract
lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check orm tests migrations_example benchmarks tools
	$(VENV)/bin/ruff format --check orm tests migrations_example benchmarks tools
	$(VENV)/bin/mypy
	$(VENV)/bin/pyright
	$(VENV)/bin/lint-imports

## pyright: pyright (basic, [tool.pyright] in pyproject.toml) over orm/, alone (`lint` runs it too)
pyright: $(VENV)/.stamp-dev
	$(VENV)/bin/pyright

## bench: compare orm with Django, Tortoise, SQLAlchemy and raw drivers, then how cost grows
# (per-row time at 1k..1M rows, aiterator memory, aget at 1..256 tasks); bench-quick: up to
# 100k rows; bench-curves: the curves alone (development)
bench: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.run

bench-quick: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.run --quick

bench-curves: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.run --quick --only-curves

## bench-peers: build benchmarks/.venv-django61 (Django 6.1, django-async-backend; needs
# Python >= 3.12) now; `bench` and `bench-quick` build it on demand
bench-peers: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.peers

$(VENV)/.stamp-example: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[example]"
	touch $@

## bench-http: the example app under uvicorn (1 and 2 workers) against Django, Tortoise and
# django-async-backend on both backends; bench-http-quick: one round, 1 s warm-up
bench-http: $(VENV)/.stamp-bench $(VENV)/.stamp-example
	$(PY) -m benchmarks.http_load

bench-http-quick: $(VENV)/.stamp-bench $(VENV)/.stamp-example
	$(PY) -m benchmarks.http_load --quick

## serve: run the example ASGI app (migrations_example/app.py) under uvicorn on :8000
serve: $(VENV)/.stamp-example
	$(VENV)/bin/uvicorn migrations_example.app:application --port 8000

## docs: build the documentation site into site/, failing on a broken link or reference
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

## docs-serve: serve the documentation site on http://127.0.0.1:8001, rebuilt on every edit
docs-serve: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8001

## dist: the sdist and the wheel in dist/, checked by twine
dist: $(VENV)/.stamp-docs
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
