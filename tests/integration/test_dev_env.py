"""scripts/env.sh gives a plain shell the environment of the make targets, and `make dags-test` ends
with the hour's result instead of Airflow's log.

Every command runs in a fresh bash whose environment has none of the test session's Airflow
settings: only what env.sh sets can make `airflow` find the DAG. Airflow's home is a temp dir of
this module, never the checkout's .airflow.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from support import REPO, dbtools

DAG_ID = "themepark_hourly_aggregation"
HOUR = "2025-07-04T20:00:00+00:00"
# The warnings every run printed before devtools/airflow_local_settings.py filtered them.
NOISE = (
    "GitWildMatchPattern",
    "Using `httpx` with `starlette.testclient` is deprecated",
    "Could not import graphviz",
)


@pytest.fixture(scope="module")
def tracker(server) -> Iterator[dbtools.TestDatabase]:
    """A tracker database with the sample day, for the whole module (the runs only add rows)."""
    import uuid

    from themepark_devtools import sample_data
    from themepark_hourly import db, migrations

    database = server.create_database(f"tph_test_{uuid.uuid4().hex[:10]}")
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AIRFLOW_CONN_THEMEPARK_DB", database.url)
            with db.connection() as conn:
                migrations.migrate(conn)
                sample_data.write(conn, sample_data.Sample(sample_data.SampleSpec(first_day=date(2025, 7, 4))))
            yield database
    finally:
        database.drop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("airflow-home")


def clean_env(home: Path, tracker: dbtools.TestDatabase, **extra: str) -> dict[str, str]:
    """The calling environment without anything Airflow or the venv: a new user's shell."""
    venv_bin = str(REPO / ".venv" / "bin")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "THEMEPARK_ENV", "THEMEPARK_PRIVATE"))
        and k not in ("PYTHONPATH", "VIRTUAL_ENV", "VERBOSE", "DEMO_VERBOSE")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(AIRFLOW_HOME=str(home), AIRFLOW_CONN_THEMEPARK_DB=tracker.url, **extra)
    return env


def bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def log_row(tracker: dbtools.TestDatabase, run_id: str) -> tuple:
    rows = tracker.query(
        "SELECT log_id, status, rides_processed, parks_processed FROM aggregation_log WHERE run_id = %s", (run_id,)
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_sourced_env_runs_the_dag_from_any_directory_without_example_dags(
    home: Path, tracker: dbtools.TestDatabase, tmp_path: Path
) -> None:
    env = clean_env(home, tracker)
    first = bash(f'. "{REPO}/scripts/env.sh" && airflow dags test {DAG_ID} {HOUR}', env, tmp_path)
    out = first.stdout + first.stderr
    assert first.returncode == 0, out[-3000:]
    assert "env.sh: migrating Airflow's metadata database" in first.stderr
    assert "Database migration required" not in out
    for noise in NOISE:
        assert noise not in out

    # The migration is done once per Airflow version; the DAG is registered, Airflow's examples are not.
    second = bash(f'. "{REPO}/scripts/env.sh" && airflow dags list -o json', env, tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "migrating" not in second.stderr
    listed = json.loads(second.stdout.strip().splitlines()[-1])
    assert [d["dag_id"] for d in listed] == [DAG_ID]
    with sqlite3.connect(home / "airflow.db") as meta:
        bundles = [name for (name,) in meta.execute("SELECT name FROM dag_bundle")]
        runs = meta.execute("SELECT run_id, state FROM dag_run WHERE dag_id = ?", (DAG_ID,)).fetchall()
    assert bundles == ["dags-folder"]
    [(run_id, state)] = runs
    assert state == "success"
    _, status, rides, parks = log_row(tracker, run_id)
    assert (status, rides > 0, parks > 0) == ("success", True, True)


def make_dags_test(home: Path, tracker: dbtools.TestDatabase, **extra: str) -> subprocess.CompletedProcess:
    env = clean_env(home, tracker, **extra)
    return subprocess.run(
        ["make", "--no-print-directory", "dags-test", f"HOUR={HOUR}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_make_dags_test_ends_with_the_hours_result(home: Path, tracker: dbtools.TestDatabase) -> None:
    done = make_dags_test(home, tracker)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) <= 4, out
    assert "DagRun Finished" not in out  # Airflow's log went to the file
    for noise in NOISE:
        assert noise not in out
    result, where = lines[-2:]
    run_id = where.split()[1].rstrip(";")
    log_id, status, rides, parks = log_row(tracker, run_id)
    assert result == f"2025-07-04 20:00-21:00 UTC: {status}, {rides} rides, {parks} parks, aggregation_log row {log_id}"
    assert status == "success" and rides > 0
    assert "DagRun Finished" in (home / "dags-test.log").read_text()


def test_make_dags_test_verbose_shows_airflows_log(home: Path, tracker: dbtools.TestDatabase) -> None:
    done = make_dags_test(home, tracker, VERBOSE="1")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "DagRun Finished" in done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-2].startswith("2025-07-04 20:00-21:00 UTC: success, ")
