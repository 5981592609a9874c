PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The settings fail closed (DEBUG is off unless set): the local targets run in development
# mode explicitly. Production never goes through this Makefile.
DEV := DEBUG=true
# uv resolves the lock files (it is a dev dependency; `make lock UV=/path/to/uv` to use another).
UV ?= $(BIN)/uv
LOCK_ARGS ?=

.PHONY: install run test test-fast lint format migrate seed worker bench clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exactly the locked versions (hash-checked), then the project itself without resolving again.
$(STAMP): pyproject.toml requirements/dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: migrate seed
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# Applies the migrations (idempotent).
migrate: $(STAMP)
	$(DEV) $(BIN)/python manage.py migrate --noinput

# The demo shop: admin user (development only), categories, products, stock (idempotent;
# needs the migrations).
seed: migrate
	$(DEV) $(BIN)/python manage.py seed_shop

# Everything: PostgreSQL-only tests run when DATABASE_URL is PostgreSQL, browser journeys
# need Chromium (/usr/bin/chromium).
test: $(STAMP)
	$(BIN)/python -m pytest

# The quick loop while coding: no browser journeys, no PostgreSQL-only tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not postgres"

# ruff, the import contracts (the apps' layering, pyproject.toml [tool.importlinter]) and
# mypy over the typed service layer ([tool.mypy]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(STAMP)
	$(DEV) $(BIN)/python manage.py db_worker --queue-name '*'

# Re-resolves requirements/dev.lock (pyproject.toml with the dev extra) and prod.lock (without
# it, pinned to the same versions) for Python 3.11 on every platform, with hashes. Keeps the
# current pins where they still fit; `make lock LOCK_ARGS=--upgrade` takes the newest allowed.
LOCK := pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' --quiet $(LOCK_ARGS)
lock: $(UV)
	$(UV) $(LOCK) --extra dev -o requirements/dev.lock
	$(UV) $(LOCK) --constraint requirements/dev.lock -o requirements/prod.lock

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5'

# Seeds a 10,000-product catalog into PostgreSQL (database shop_bench), serves it with gunicorn
# as in production and prints req/s, p50/p95/p99, queries per request and each page's ratio to
# a bare-Django ceiling page, catalogue cache cold and warm, then checkout orders/s (verified).
#   make bench BENCH_ARGS=--quick            (1,000 products, 5 s per scenario: a few minutes)
#   make bench BENCH_ARGS="--reuse-db --only category_page,checkout --profile"
# (see bench/run.py --help)
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache
