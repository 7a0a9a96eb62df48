"""The DAG file: imports cleanly, cheaply, without touching a database, and is wired as designed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from support import REPO

DAG_FILE = REPO / "dags" / "themepark_hourly_aggregation.py"

# Imports the DAG file with every route to a database or the network cut: the MySQL client
# libraries cannot be imported and any socket connect raises. Prints the parse time.
_ISOLATED_IMPORT = r"""
import importlib.util, json, socket, sys, time
for name in ("MySQLdb", "mysql.connector", "pymysql"):
    sys.modules[name] = None
def refuse(*args, **kwargs):
    raise AssertionError("network access while importing the DAG file: %r" % (args,))
socket.socket.connect = refuse
socket.create_connection = refuse
import airflow.sdk  # Airflow itself is paid once per process, not per parse
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("dagfile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - start
heavy = sorted(m for m in ("MySQLdb", "airflow.providers.mysql.hooks.mysql", "themepark_hourly.aggregation")
               if sys.modules.get(m) is not None)
print(json.dumps({"seconds": elapsed, "dag_id": module.dag.dag_id, "heavy": heavy}))
"""


def test_dagbag_imports_without_errors(dag):
    assert dag is not None
    assert dag.dag_id == "themepark_hourly_aggregation"


def test_dag_file_does_no_database_or_network_work_at_import():
    done = subprocess.run(
        [sys.executable, "-c", _ISOLATED_IMPORT, str(DAG_FILE)],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "AIRFLOW_CONN_THEMEPARK_DB": "mysql://nobody:secret@203.0.113.1:1/none"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["dag_id"] == "themepark_hourly_aggregation"
    assert report["heavy"] == []  # hooks and the aggregation code load inside tasks only
    print(f"DAG file parse time: {report['seconds'] * 1000:.1f} ms")


def test_tasks_and_dependencies(dag):
    assert set(dag.task_ids) == {"migrate", "aggregate_rides", "aggregate_parks", "late_data", "log"}
    assert dag.get_task("migrate").downstream_task_ids == {"aggregate_rides", "late_data"}
    assert dag.get_task("late_data").downstream_task_ids == {"log"}
    assert dag.get_task("aggregate_rides").downstream_task_ids == {"aggregate_parks"}
    assert dag.get_task("aggregate_parks").downstream_task_ids == {"log"}
    assert str(dag.get_task("log").trigger_rule) in ("all_done", "TriggerRule.ALL_DONE")


def test_dag_hygiene(dag):
    assert dag.doc_md and "UTC hour" in dag.doc_md
    assert set(dag.tags) >= {"themepark", "hourly"}
    assert dag.catchup is True
    assert dag.max_active_runs == 4  # THEMEPARK_MAX_ACTIVE_RUNS' documented default
    task = dag.get_task("aggregate_rides")
    assert task.owner == "themepark-data"
    assert task.retry_delay == timedelta(seconds=60)  # THEMEPARK_RETRY_DELAY_SECONDS' default
    assert task.retry_exponential_backoff
    assert dag.params["snapshot_interval_minutes"] == 10


def test_start_date_and_cadence_come_from_the_environment(monkeypatch):
    from themepark_hourly import config

    assert config.first_hour() is None and config.settle() == timedelta(minutes=5)
    monkeypatch.delenv("THEMEPARK_TASK_RETRIES")  # the test session sets 0
    assert config.task_retries() == 2 and config.conflict_retries() == 3 and config.lock_timeout_seconds() == 600
    monkeypatch.setenv("THEMEPARK_START_DATE", "2025-12-01")
    assert config.first_hour() == datetime(2025, 12, 1, tzinfo=UTC)
    monkeypatch.setenv("THEMEPARK_SETTLE_MINUTES", "12")
    assert config.settle() == timedelta(minutes=12)
    monkeypatch.setenv("THEMEPARK_SNAPSHOT_INTERVAL_MINUTES", "5")
    assert config.snapshot_interval_minutes() == 5
    monkeypatch.setenv("THEMEPARK_SNAPSHOT_INTERVAL_MINUTES", "0")
    import pytest

    with pytest.raises(config.ConfigError, match="THEMEPARK_SNAPSHOT_INTERVAL_MINUTES"):
        config.snapshot_interval_minutes()


def test_tasks_have_no_template_fields(dag):
    # No rendered-fields round trip to the api-server per task (the task runner skips it then).
    assert {t.task_id: tuple(t.template_fields) for t in dag.tasks} == {t: () for t in dag.task_ids}
