# One entry point for people and CI. Every target builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Exported so that SITE_URL (emails, feeds, canonical links) follows the port served.
export PORT
STAMP := $(VENV)/.installed
# The browser tests' checkers (axe-core, vnu-jar) come from npm; without npm
# those tests skip with a message saying what to install.
NODE_MODULES := $(if $(shell command -v npm 2>/dev/null),node_modules)

.PHONY: run serve-cached test ci lint dates bench clean messages

# The interface's translations, compiled from locale/*/LC_MESSAGES/*.po in pure
# Python (compare_site/translations.py, Babel): no GNU gettext needed to run or test.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is needed (found " + sys.version.split()[0] + ").")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# --ignore-scripts: vnu-jar's install script would download a Java; the machine's is used.
$(MO_FILES): %.mo: %.po $(STAMP)
	$(BIN)/python -m compare_site.translations

messages: $(MO_FILES)

node_modules: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch node_modules

run: $(STAMP) $(MO_FILES)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py load_demo
	DJANGO_DEBUG=1 $(BIN)/python manage.py create_demo_admin
	@echo "Site: http://127.0.0.1:$(PORT)/   Admin: http://127.0.0.1:$(PORT)/admin/"
	@# The task worker (email, warnings, retention) and the scheduler that wakes it
	@# run beside the server and stop when the server stops. No reloader for the
	@# worker: its reloading parent would leave the child running after a kill.
	DJANGO_DEBUG=1 sh -c '$(BIN)/python manage.py db_worker --no-reload & worker=$$!; $(BIN)/python manage.py crontask --no-heartbeat & scheduler=$$!; trap "kill $$worker $$scheduler 2>/dev/null" EXIT INT TERM; $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)'

# gunicorn on PORT behind Varnish (deploy/varnish/site.vcl) on VARNISH_PORT, with the
# task worker (purge retries, scheduled publications) and the scheduler; production
# settings over plain HTTP on 127.0.0.1. Visit http://127.0.0.1:$(VARNISH_PORT)/.
VARNISH_PORT ?= 6081
serve-cached: $(STAMP) $(MO_FILES)
	$(BIN)/python bench/varnish.py serve --port $(PORT) --varnish-port $(VARNISH_PORT)

# Both cores by default (PYTEST_WORKERS=0 for one process); tests that start
# servers or drive the browser share one worker (xdist_group, see tests/conftest.py).
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

test: $(STAMP) $(MO_FILES) $(NODE_MODULES)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# What CI runs (.ci/run): lint, checks, the migrations check, the suite, then
# the clock tests on every date of tests/clock.py.
ci: lint test dates

# The tests that read the clock, once at each instant in tests/clock.py
# (a week, both DST changes in Berlin and New York, New Year's Eve).
dates: $(STAMP) $(MO_FILES)
	$(BIN)/python -m pytest --every-date -q -p no:cacheprovider $(XDIST) $(PYTEST_ARGS)

# The checks of .pre-commit-config.yaml, from the dev extra (no downloads).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	git ls-files -z '*.py' | xargs -0 $(BIN)/django-upgrade --target-version 6.1 --check
	git ls-files -z '*.html' | xargs -0 $(BIN)/djade --target-version 6.1 --check
	DJANGO_DEBUG=1 $(BIN)/python manage.py check
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache node_modules $(MO_FILES)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
