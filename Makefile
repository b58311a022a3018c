# POEMSaid. Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Local targets run with DEBUG on and the development key; production sets both.
export DEBUG ?= 1
export ALLOW_INSECURE_KEY ?= 1

.PHONY: setup run test test-postgres lint format serve bench check-cases clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# The test EHR's node packages (FHIR server + OAuth server for the EHR integration tests).
EHR_NODE := tests/ehr/node_modules/.package-lock.json
$(EHR_NODE): tests/ehr/package.json tests/ehr/package-lock.json
	cd tests/ehr && npm ci --no-audit --no-fund --loglevel=error

# The interface translations (locale/*/LC_MESSAGES/django.po, in the repository) are compiled
# here; compilemessages needs GNU gettext's msgfmt (Debian's gettext, installed when missing).
setup: $(VENV)/.installed $(EHR_NODE)
	command -v msgfmt >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null)
	$(PY) manage.py compilemessages --ignore=.venv --ignore=tests --ignore=staticfiles -v0
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_content
	$(PY) manage.py load_golden_cases

run: setup
	$(PY) manage.py runserver 127.0.0.1:8000

# Tests run with DEBUG off, as production does (poemsaid/testenv.py).
test: setup
	DEBUG=0 $(PY) -m pytest

# The same suite against PostgreSQL (DATABASE_URL must point at a server).
test-postgres: setup
	DEBUG=0 DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/poemsaid} $(PY) -m pytest -m "not browser and not stack" -p no:randomly

# mypy --strict over the application code (pyproject.toml [tool.mypy]; tests and bench/ excluded).
lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-cases: setup
	$(PY) manage.py check_cases

# The production configuration, locally (design.md §3.6): nginx on 127.0.0.1:8080 as the
# buffering reverse proxy, gunicorn behind it on a unix socket, DEBUG off, PostgreSQL when
# DATABASE_URL is set. nginx is Debian's package; its config, pid and temp files live in var/.
serve: setup
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null)
	DEBUG=0 $(PY) manage.py collectstatic --noinput -v0
	DEBUG=0 $(PY) deploy/stack.py serve

bench: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
