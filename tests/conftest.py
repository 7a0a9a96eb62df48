"""Shared test fixtures: a real MariaDB/MySQL server and an Airflow home of the test session's own.

The server is THEMEPARK_TEST_SERVER (``mysql://user:pass@host:port``, the user must be allowed
to create databases) or the project's private MariaDB, started through scripts/localdb.sh like
every make target does. Each test that needs a database gets a new one, created and dropped here:
no test touches a database it did not create.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid

from support import REPO

# Airflow reads these when first imported: point it at a throwaway home, never the user's.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="themepark-test-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("THEMEPARK_TASK_RETRIES", "0")
# The documented defaults, whatever the calling shell has set.
for _setting in (
    "THEMEPARK_START_DATE",
    "THEMEPARK_SETTLE_MINUTES",
    "THEMEPARK_MAX_ACTIVE_RUNS",
    "THEMEPARK_RETRY_DELAY_SECONDS",
    "THEMEPARK_CONFLICT_RETRIES",
    "THEMEPARK_SNAPSHOT_INTERVAL_MINUTES",
    "THEMEPARK_LOCK_TIMEOUT_SECONDS",
):
    os.environ.pop(_setting, None)
os.environ.pop("AIRFLOW_CONN_THEMEPARK_DB", None)
for _folder in ("plugins", "devtools"):
    if str(REPO / _folder) not in sys.path:
        sys.path.insert(0, str(REPO / _folder))

import pytest  # noqa: E402

from support.dbtools import Server, TestDatabase  # noqa: E402


def _server_url() -> str:
    url = os.environ.get("THEMEPARK_TEST_SERVER", "").strip()
    if url:
        return url
    done = subprocess.run([str(REPO / "scripts" / "localdb.sh"), "start"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.exit(f"could not start the private MariaDB:\n{done.stderr}", returncode=3)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def server() -> Server:
    return Server.from_url(_server_url())


@pytest.fixture
def database(server: Server, monkeypatch: pytest.MonkeyPatch):
    """A new, empty database; AIRFLOW_CONN_THEMEPARK_DB points at it for the test."""
    db = server.create_database(f"tph_test_{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", db.url)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def migrated(database: TestDatabase) -> TestDatabase:
    """A database with every migration applied."""
    from themepark_hourly import migrations

    with database.connect() as conn:
        migrations.migrate(conn)
    return database


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (SQLite in the session's AIRFLOW_HOME), migrated once."""
    from airflow.utils import db as airflow_db_utils

    airflow_db_utils.initdb()
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag("themepark_hourly_aggregation")


@pytest.fixture
def own_dag(airflow_db):
    """A DAG object of the test's own: dag.test(run_conf=...) merges the conf into the in-process
    DAG's params, which would leak into the session's shared `dag` fixture."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).get_dag("themepark_hourly_aggregation")
