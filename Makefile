# vendorcheck — the two commands a newcomer needs are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi.py

.PHONY: help install lock upgrade check-runtime-lock run test test-fast test-deploy translations-update test-unit test-postgres check lint fmt bench translations db demo clean

help:
	@echo "make run            set up, create the SQLite database, seed the demo, serve http://127.0.0.1:5000"
	@echo "                    (make run PORT=8080 HOST=127.0.0.1 to serve elsewhere)"
	@echo "make test           set up and run the whole test suite (SQLite)"
	@echo "make test-fast      the edit loop: unit + integration tests, without the browser tests (tests/e2e)"
	@echo "                    and the benchmark smoke tests"
	@echo "make test-postgres  run the integration tests against PostgreSQL ($(PG_URL))"
	@echo "make test-deploy    two app instances behind nginx with a worker, PostgreSQL, Redis and S3;"
	@echo "                    one instance is killed mid-burst (needs nginx, PostgreSQL and Redis here)"
	@echo "make check          lint + type check + tests + questionnaire check"
	@echo "make bench          run the benchmarks and print ratios against baselines"
	@echo "make lock           regenerate requirements/*.txt (pinned, hashed) from setup.cfg's ranges"
	@echo "make upgrade        upgrade the lock within the ranges, run the whole suite, print what changed"

LOCK := requirements/dev.txt

# Every install comes from the hashed lock (docs/decisions/0004-lock-files.md) into a fresh venv, so the venv
# holds exactly the lock; `pip check` proves the locked set is consistent; the editable install adds only our
# own package, built with the locked setuptools (no build isolation, which would fetch an unpinned one).
$(STAMP): $(LOCK) requirements/runtime.txt setup.cfg pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	python3 -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $(STAMP)

# The API reference page's Swagger UI comes from npm, pinned by its lock file (static/vendor/swagger-ui/).
API_DOCS := static/vendor/swagger-ui/node_modules/.package-lock.json

install: $(STAMP) translations $(API_DOCS)
	@sh scripts/system-deps.sh

$(API_DOCS): static/vendor/swagger-ui/package.json static/vendor/swagger-ui/package-lock.json
	cd static/vendor/swagger-ui && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

translations: $(STAMP)
	@$(BIN)/pybabel compile -d translations >/dev/null

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l fr

db: install
	$(BIN)/vendorcheck init-db

demo: db
	$(BIN)/vendorcheck demo --if-empty

HOST ?= 127.0.0.1
PORT ?= 5000
# BASE_URL (mailed links, signing certificate name) follows HOST and PORT unless VENDORCHECK_BASE_URL is set.
run: demo
	$(BIN)/vendorcheck run --host $(HOST) --port $(PORT)

# The SQLite legs run on every core with pytest-xdist (TEST_WORKERS=0 runs in one process); modules sharing
# a Redis index are kept on one worker by their xdist_group mark (--dist loadgroup).
TEST_WORKERS ?= auto
PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

test: install
	$(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) --ignore=tests/deploy; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The edit loop: everything `make test` runs except the browser tests and the benchmarks' smoke tests, which
# start servers and browsers. `make test` (and CI) still run the whole suite.
FAST_SKIP := --ignore=tests/deploy --ignore=tests/e2e --ignore=tests/integration/test_benchmarks_smoke.py -m "not e2e"

test-fast: install
	$(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) $(FAST_SKIP); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-unit: install
	$(BIN)/pytest -q tests/unit

# The exhaustive route × actor × scope matrix (authz/test_authz_matrix.py::test_access) checks the app's
# access rules, which do not depend on the database: it runs in `make test`; here its tenant crawls,
# hostile ids and every other integration test run against PostgreSQL. With several workers, each worker uses
# its own database beside $(PG_URL)'s (test_gw0, test_gw1…), created on first use.
test-postgres: install
	VENDORCHECK_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) tests/integration \
	  --deselect tests/integration/authz/test_authz_matrix.py::test_access; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The production shape on this machine: nginx (TLS) in front of two gunicorn instances, an RQ worker,
# PostgreSQL, Redis and an S3 server, one instance killed mid-burst (tests/deploy/; CI runs it).
test-deploy: install
	$(BIN)/pytest -q -p no:cacheprovider tests/deploy

lint: install
	$(BIN)/ruff check vendorcheck tests benchmarks scripts wsgi.py
	$(BIN)/mypy vendorcheck/questionnaire vendorcheck/pdf vendorcheck/agreement vendorcheck/storage

fmt: install
	$(BIN)/ruff check --fix vendorcheck tests benchmarks wsgi.py

check: lint test
	$(BIN)/vendorcheck questionnaires check

bench: install
	$(PY) -m benchmarks

# The production set alone (requirements/runtime.txt) installs, is consistent, and builds the app.
check-runtime-lock:
	@d=$$(mktemp -d) && python3 -m venv $$d/venv && \
	$$d/venv/bin/pip install --quiet --require-hashes --no-deps -r requirements/runtime.txt && \
	$$d/venv/bin/pip install --quiet --no-deps --no-build-isolation . && $$d/venv/bin/pip check && \
	(cd $$d && VENDORCHECK_SECRET_KEY=check-runtime-lock-only $$d/venv/bin/python -c \
	  "from vendorcheck import create_app; create_app(); print('runtime lock: app builds')") && rm -rf $$d build

lock: $(STAMP)
	sh scripts/lock.sh $(BIN)/uv

upgrade: $(STAMP)
	sh scripts/upgrade.sh $(BIN)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
