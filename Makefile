# themepark-hourly: `make demo` to see it work, `make test` to run every test.
# Without AIRFLOW_CONN_THEMEPARK_DB, targets use the project's private MariaDB (scripts/localdb.sh).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Recipes source scripts/env.sh, the one home of the environment, which users source for `airflow`
# in their own shell (docs/DEVELOPING.md): a make run and a shell cannot drift apart. ENV also
# migrates Airflow's metadata database when needed; ENV_NO_AIRFLOW_DB is for recipes that do not
# use AIRFLOW_HOME.
ENV := . scripts/env.sh &&
ENV_NO_AIRFLOW_DB := THEMEPARK_ENV_MIGRATE=0 . scripts/env.sh &&
# Whether the tracker connection is the private server's demo database (env.sh's default) or one
# the user named.
PRIVATE_DB := [ "$$AIRFLOW_CONN_THEMEPARK_DB" = "$$THEMEPARK_PRIVATE_DB_URL" ]
# The mariadb client on the private server (add a database name).
PRIVATE_CLIENT := mariadb --no-defaults -uroot -h127.0.0.1 -P"$$THEMEPARK_LOCALDB_PORT"

.PHONY: help setup demo ui dags-test soak bench bench-airflow bench-coverage bench-compare test test-unit test-integration test-e2e lint db-start db-stop db-shell lock clean

help:
	@echo "make demo      set everything up and run the DAG on a sample day (VERBOSE=1: Airflow's log too)"
	@echo "make test      run every test (starts the private MariaDB when needed)"
	@echo "make test-unit         the tests that need no database server (tests/unit, seconds)"
	@echo "make test-integration  the tests on MariaDB (tests/integration)"
	@echo "make test-e2e          the tests that run Airflow's own processes (tests/e2e, minutes)"
	@echo "make ui        Airflow's UI on the demo data (http://127.0.0.1:UI_PORT, default 8080): the DAG, its Hourly coverage tab"
	@echo "make dags-test HOUR=2025-07-04T20:00:00+00:00   one hour through the airflow CLI (VERBOSE=1: its log)"
	@echo "make setup     create .venv with the locked dependencies"
	@echo "make bench     the performance benchmark (docs/PERFORMANCE.md)"
	@echo "make bench-airflow   the DAG under Airflow's real scheduler: single hours, a 168-hour backfill, CPU by process"
	@echo "make bench-coverage  the coverage view's grid of 90 days on make bench's tracker_30d (docs/COVERAGE.md)"
	@echo "make bench-compare BEFORE=<rev>   that revision's aggregation against this checkout's"
	@echo "make soak      200 consecutive hours in one process (connections, memory)"
	@echo "make lint      ruff"
	@echo "make db-start  start the private MariaDB (port LOCALDB_PORT, scripts/env.sh); make db-stop stops it"
	@echo "make db-shell  a mariadb prompt on the private server's demo database, in UTC"
	@echo "make lock      re-resolve requirements.txt into constraints.txt"
	@echo "make clean     remove .venv, .airflow and the caches (the private MariaDB's .localdb/ stays)"

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt
	PYTHON="$(PYTHON)" scripts/system-deps.sh build
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

demo: setup db-start
	@$(ENV) if $(PRIVATE_DB); then \
	  $(PRIVATE_CLIENT) -e "CREATE DATABASE IF NOT EXISTS $${THEMEPARK_PRIVATE_DB_URL##*/}"; fi
	@$(ENV) $(BIN)/python scripts/demo.py

# Airflow's own processes on this checkout (airflow standalone: api-server, scheduler, dag-processor,
# triggerer; LocalExecutor on the SQLite metadata database in .airflow/), against the same tracker
# database as make demo: to look at the DAG and its Hourly coverage tab (docs/COVERAGE.md). Ctrl-C
# stops it. The admin password is printed at start-up (and kept in .airflow/). Only this machine
# reaches it (127.0.0.1), and four task processes at most are enough for a look.
UI_PORT ?= 8080
ui: setup db-start
	@$(ENV) echo "Airflow's UI: http://127.0.0.1:$(UI_PORT) (user admin; password in $$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)"; \
	  AIRFLOW__CORE__EXECUTOR=LocalExecutor AIRFLOW__CORE__PARALLELISM=4 \
	  AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=$(UI_PORT) \
	  AIRFLOW__API__BASE_URL=http://127.0.0.1:$(UI_PORT) \
	  AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$(UI_PORT)/execution/ \
	  AIRFLOW__CORE__LAZY_LOAD_PLUGINS=False \
	  airflow standalone

# One hour through the Airflow CLI, e.g. make dags-test HOUR=2025-07-04T20:00:00+00:00 (20:00-21:00 UTC)
dags-test: setup db-start
	@test -n "$(HOUR)" || { echo "usage: make dags-test HOUR=2025-07-04T20:00:00+00:00 (the hour starting then)"; exit 2; }
	@$(ENV) $(BIN)/python scripts/dags_test.py "$(HOUR)"

# 200 consecutive hours in one process at a tenth of the tracker's size (420 rides), in its own
# database on the private server: connections and memory must stay flat.
soak: setup
	$(ENV_NO_AIRFLOW_DB) scripts/localdb.sh start >/dev/null
	$(ENV_NO_AIRFLOW_DB) $(PRIVATE_CLIENT) -e "CREATE DATABASE IF NOT EXISTS themepark_soak"
	$(ENV_NO_AIRFLOW_DB) AIRFLOW_CONN_THEMEPARK_DB="$${THEMEPARK_PRIVATE_DB_URL%/*}/themepark_soak" $(BIN)/python -m themepark_devtools.soak --hours 200

# The benchmark (docs/PERFORMANCE.md): the aggregation and the whole DAG run against the floor; loads its data sets once into databases of
# their own on the private server (themepark_bench_*), then measures; results in bench/results.json.
# Do not run `make test` meanwhile: one test restarts the private server.
# The 10x data set's look-up indexes need a buffer pool of about 2G: a private server started by
# this target gets BENCH_BUFFER_POOL (one already running keeps its own; the report says which).
BENCH_BUFFER_POOL ?= 3G
bench: setup
	@$(ENV_NO_AIRFLOW_DB) if [ -z "$$THEMEPARK_BENCH_SERVER" ]; then \
	  THEMEPARK_LOCALDB_BUFFER_POOL=$(BENCH_BUFFER_POOL) scripts/localdb.sh start >/dev/null; fi
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python bench/bench.py $(BENCH_ARGS)

# The DAG under Airflow's real scheduler (docs/PERFORMANCE.md "A backfill under Airflow's
# scheduler"): bench.py's tracker_30d set, an AirflowStack (api-server, scheduler, dag-processor,
# triggerer, LocalExecutor with parallelism 32, private PostgreSQL), one hour by REST trigger, a
# backfill of 168 hours, CPU seconds per hour by process. About 5 minutes; results in
# bench/airflow_results.json. Not part of `make test`.
bench-airflow: setup
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python bench/airflow_bench.py $(BENCH_ARGS)

# The coverage view's grid (docs/COVERAGE.md "Cost"): 90 and 366 days on bench.py's tracker_30d as
# a tracker after an outage (written in a transaction it rolls back); results in
# bench/coverage_results.json. Loads tracker_30d first when make bench has not.
bench-coverage: setup
	@$(ENV_NO_AIRFLOW_DB) if [ -z "$$THEMEPARK_BENCH_SERVER" ]; then \
	  THEMEPARK_LOCALDB_BUFFER_POOL=$(BENCH_BUFFER_POOL) scripts/localdb.sh start >/dev/null; fi
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python bench/coverage_bench.py $(BENCH_ARGS)

# Another revision's aggregation against this checkout's, alternately on make bench's data
# (loaded by make bench first), e.g. make bench-compare BEFORE=main COMPARE_ARGS="--blocks 6".
bench-compare: setup
	@test -n "$(BEFORE)" || { echo "usage: make bench-compare BEFORE=<git revision>"; exit 2; }
	@$(ENV_NO_AIRFLOW_DB) if [ -z "$$THEMEPARK_BENCH_SERVER" ]; then \
	  THEMEPARK_LOCALDB_BUFFER_POOL=$(BENCH_BUFFER_POOL) scripts/localdb.sh start >/dev/null; fi
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python bench/compare.py --before $(BEFORE) $(COMPARE_ARGS)

db-start:
	@$(ENV_NO_AIRFLOW_DB) if ! $(PRIVATE_DB); then \
	  echo "AIRFLOW_CONN_THEMEPARK_DB is set: using that database, not starting a local one"; \
	else url=$$(scripts/localdb.sh start) && echo "private MariaDB running at $$url"; fi

db-stop:
	@$(ENV_NO_AIRFLOW_DB) scripts/localdb.sh stop

db-shell:
	@$(ENV_NO_AIRFLOW_DB) scripts/localdb.sh start >/dev/null
	@$(ENV_NO_AIRFLOW_DB) $(PRIVATE_CLIENT) --init-command="SET time_zone='+00:00'" "$${THEMEPARK_PRIVATE_DB_URL##*/}"

# Tests create and drop databases of their own on THEMEPARK_TEST_SERVER (a server URL with a
# user allowed to create databases), or on the private MariaDB when it is not set.
test: setup
	@$(ENV_NO_AIRFLOW_DB) if [ -z "$$THEMEPARK_TEST_SERVER" ]; then scripts/localdb.sh start >/dev/null; fi
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python -m pytest $(PYTEST_ARGS)

# tests/unit needs no database server, so none is started.
test-unit: setup
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration test-e2e: test-%: setup
	@$(ENV_NO_AIRFLOW_DB) if [ -z "$$THEMEPARK_TEST_SERVER" ]; then scripts/localdb.sh start >/dev/null; fi
	$(ENV_NO_AIRFLOW_DB) $(BIN)/python -m pytest tests/$* $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check dags plugins devtools tests scripts bench

# Rewrite constraints.txt from a fresh resolution of requirements.txt (after changing it).
lock:
	rm -rf /tmp/themepark-lock-venv && $(PYTHON) -m venv /tmp/themepark-lock-venv
	/tmp/themepark-lock-venv/bin/pip install --quiet -r requirements.txt
	/tmp/themepark-lock-venv/bin/pip check
	{ echo "# Lock of the resolved set from a verified install (pip freeze, pip check clean) of requirements.txt"; \
	  echo "# on Python 3.11. Regenerate with: make lock"; \
	  /tmp/themepark-lock-venv/bin/pip freeze; } > constraints.txt

clean:
	rm -rf $(VENV) .airflow .pytest_cache .ruff_cache
