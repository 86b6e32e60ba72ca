# The two commands a newcomer needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mash
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# One more than this machine's two cores: tests spend time waiting on PostgreSQL, Chromium
# and the processes they start (measured: 291 s with 2, 256 s with 3, 256 s with 4). A worker
# that runs out takes tests queued for another (worksteal), and the longest tests start first
# (tests/conftest.py STARTED_FIRST): with xdist's batches, the last of them once kept one
# worker busy for four minutes after the others had stopped (617 s against 474 s).
PYTEST_WORKERS ?= 3
PYTEST_DIST := --dist worksteal
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)

.PHONY: setup demo test test-instants lint layers types format migrations-check bench bench-million clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mash needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "mash needs Node.js 20+ and npm for the GOV.UK Design System"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build/static/css/mash.css: node_modules/.installed static/scss/mash.scss
	npm run --silent build

setup: $(BIN)/.installed build/static/css/mash.css

# The demo signs in with a password alone, and every page says so (docs/security.md "Signing in").
DEMO_ENV := DEBUG=true TWO_FACTOR_REQUIRED=false
DEMO_PORT ?= 8000

# The server with a Celery worker and beat beside it, on a broker folder in var/ (demo/serve.py):
# Ctrl-C stops all three.
demo: setup
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --enquiries 500
	$(DEMO_ENV) $(BIN)/python -m demo.serve $(BIN)/python manage.py runserver 127.0.0.1:$(DEMO_PORT)

# The machine is checked first, in seconds, with the system's Python (tools/preflight.py):
# PostgreSQL, Redis, npm, Chromium and the PDF libraries (WeasyPrint's), the last two
# installed from Debian's packages as root.
test:
	@$(TEST_ENV) $(PYTHON) tools/preflight.py
	@$(MAKE) --no-print-directory setup
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	@mkdir -p var
	@# The layers and types are checked beside the tests, on the CPU the tests leave idle
	@# (nice 19: they barely slow a test), and said after them; either failing fails `make test`.
	@nice -n 19 $(MAKE) --no-print-directory layers types > var/static-checks.log 2>&1 & checks=$$!; \
	$(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_DIST) --durations=15; tests=$$?; \
	wait $$checks; checked=$$?; cat var/static-checks.log; \
	[ $$checked -eq 0 ] || echo "mash: the layers or types check failed (above)"; \
	[ $$tests -eq 0 ] && [ $$checked -eq 0 ]

# The whole suite again at each of the instants a wall-clock test breaks (tests/instants.py):
# a Saturday night, 08:59 and 17:00 on a weekday, a bank holiday and both clock changes.
test-instants: setup
	@status=0; for instant in $$($(BIN)/python -c 'from tests.instants import HOSTILE; print(*HOSTILE)'); do \
	  echo "mash: the whole suite at $$instant"; \
	  MASH_TEST_INSTANT=$$instant $(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_DIST) -q || status=1; \
	done; exit $$status

lint: setup layers types
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The apps depend one way, lowest first (pyproject.toml [tool.importlinter], docs/architecture.md).
layers: setup
	DJANGO_SETTINGS_MODULE=mash.settings DEBUG=true $(BIN)/lint-imports --no-cache

# Types, with Django's and REST framework's stubs (pyproject.toml [tool.mypy]).
types: setup
	DEBUG=true $(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: setup
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks print their figures and the ratio to their baseline (see docs/performance.md).
# bench/queue.py drops and recreates its own PostgreSQL database, BENCH_DATABASE_URL;
# bench/firewall.py its own, BENCH_FIREWALL_DATABASE_URL; bench/import.py its own,
# BENCH_IMPORT_DATABASE_URL; bench/load.py its own, BENCH_LOAD_DATABASE_URL (and Redis db 13);
# bench/anatomy.py (where each page's time goes) its own, BENCH_ANATOMY_DATABASE_URL.
bench: setup
	$(BIN)/python -m pip install --quiet businesstimedelta locust
	$(BIN)/python bench/worktime.py
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/people.py
	$(BIN)/python bench/anatomy.py
	$(BIN)/python bench/firewall.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/load.py

# Issue 23's sizes: 1,000,000 enquiries with 3,000,000 records and 10,000,000 access-log
# entries (bench/volume.py), an import of 1,000,000 rows, `seed_demo` of 1,000,000 and the
# access log partitioned and not at 10,000,000 entries. Each bench keeps its own
# database and options; this takes well over an hour of both cores.
MILLION := 1000000
bench-million: setup
	$(BIN)/python bench/queue.py --enquiries $(MILLION)
	$(BIN)/python bench/people.py --enquiries $(MILLION)
	$(BIN)/python bench/pages.py --enquiries $(MILLION)
	$(BIN)/python bench/anatomy.py --enquiries $(MILLION)
	$(BIN)/python bench/import.py --rows $(MILLION)
	$(BIN)/python bench/seed.py --enquiries $(MILLION)
	$(BIN)/python bench/access_log.py --entries 10000000

clean:
	rm -rf $(VENV) node_modules build var
