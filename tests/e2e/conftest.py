"""Fixtures of the end-to-end suite: a real Airflow deployment (devtools/themepark_devtools/airflow_stack.py) per test module.

Every test under tests/e2e is marked ``e2e`` (deselect with ``-m "not e2e"``). A module gets one
stack, started once (about 30 s) and stopped after its last test, also when a test fails:

    def test_something(airflow_stack, e2e_database):
        backfill = airflow_stack.create_backfill("2025-07-04T14:00:00Z", "2025-07-04T14:00:00Z")

A module that needs other settings overrides ``airflow_stack_env`` (module scope), e.g.::

    @pytest.fixture(scope="module")
    def airflow_stack_env():
        return {"THEMEPARK_START_DATE": "2025-07-04T00:00:00+00:00", "THEMEPARK_TASK_RETRIES": "1"}

THEMEPARK_E2E_KEEP=1 keeps each stack's temp directory (logs, AIRFLOW_HOME) after the run; it is
also kept, and its path printed, when a test of the module failed.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from support.dbtools import Server, TestDatabase
from support.sample_day import DAY
from themepark_devtools import sample_data
from themepark_devtools.airflow_stack import AirflowStack

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def e2e_database(server: Server):
    """A fresh MariaDB database for the module's stack, with every migration applied; dropped afterwards."""
    from themepark_hourly import migrations

    db = server.create_database(f"tph_e2e_{uuid.uuid4().hex[:10]}")
    try:
        with db.connect() as conn:
            migrations.migrate(conn)
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="module")
def sample_day(e2e_database: TestDatabase) -> TestDatabase:
    """e2e_database with the generated tracker's snapshots of DAY (support/sample_day.py names its hours)."""
    with e2e_database.connect() as conn:
        sample_data.write(conn, sample_data.Sample(sample_data.SampleSpec(first_day=DAY)))
    return e2e_database


@pytest.fixture(scope="module")
def airflow_stack_env() -> dict[str, str]:
    """Extra environment for the module's Airflow processes (override in a test module)."""
    return {}


@pytest.fixture(scope="module")
def airflow_stack_dags() -> list[Path]:
    """DAG files the module's deployment has beside the project's (override in a test module)."""
    return []


@pytest.fixture(scope="module")
def airflow_stack_workers() -> tuple[str, ...]:
    """Names of Celery workers: none is the LocalExecutor deployment; names make it docker-compose.yaml's
    CeleryExecutor one, with a private Redis and one worker process per name (override in a test module)."""
    return ()


@pytest.fixture(scope="module")
def airflow_stack_users() -> dict[str, str]:
    """SimpleAuthManager users beside the admin, name -> role (override in a test module)."""
    return {}


@pytest.fixture(scope="module")
def airflow_stack(
    request,
    e2e_database: TestDatabase,
    airflow_stack_env: dict[str, str],
    airflow_stack_dags,
    airflow_stack_workers,
    airflow_stack_users,
):
    """A running, healthy Airflow stack whose tracker connection is ``e2e_database``; torn down after the module."""
    failed_before = request.session.testsfailed
    stack = AirflowStack(
        e2e_database.url,
        extra_env=airflow_stack_env,
        extra_dag_files=airflow_stack_dags,
        celery_workers=airflow_stack_workers,
        users=airflow_stack_users,
    )
    started = False
    try:
        stack.start()
        started = True
        yield stack
    finally:
        try:
            stack.stop()
            print(f"\nE2E stack timings (s): {stack.timings}")
        finally:
            failed = not started or request.session.testsfailed > failed_before
            if os.environ.get("THEMEPARK_E2E_KEEP") or failed:
                print(f"\nAirflow stack kept in {stack.workdir} (logs in {stack.log_dir})")
            else:
                stack.cleanup()
