# vendorcheck — the two commands a newcomer needs are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi.py

.PHONY: help install run test translations-update test-unit test-postgres check lint fmt bench translations db demo clean

help:
	@echo "make run            set up, create the SQLite database, seed the demo, serve http://127.0.0.1:5000"
	@echo "make test           set up and run the whole test suite (SQLite)"
	@echo "make test-postgres  run the integration tests against PostgreSQL ($(PG_URL))"
	@echo "make check          lint + type check + tests + questionnaire check"
	@echo "make bench          run the benchmarks and print ratios against baselines"

$(STAMP): setup.cfg pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) translations
	@sh scripts/system-deps.sh

translations: $(STAMP)
	@$(BIN)/pybabel compile -d translations >/dev/null

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l fr

db: install
	$(BIN)/vendorcheck init-db

demo: db
	$(BIN)/vendorcheck demo --if-empty

run: demo
	$(BIN)/vendorcheck run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pytest -q -p no:cacheprovider; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-unit: install
	$(BIN)/pytest -q tests/unit

test-postgres: install
	VENDORCHECK_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider tests/integration; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: install
	$(BIN)/ruff check vendorcheck tests benchmarks wsgi.py
	$(BIN)/mypy vendorcheck/questionnaire vendorcheck/reports vendorcheck/dpa

fmt: install
	$(BIN)/ruff check --fix vendorcheck tests benchmarks wsgi.py

check: lint test
	$(BIN)/vendorcheck questionnaires check

bench: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
