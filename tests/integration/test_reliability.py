"""Faults and security on a real server: lock waits, a killed connection, a least-privilege user,
and credentials that never reach a log."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
import uuid
from datetime import date

import pendulum
import pytest

from support import REPO
from support.aggregate_helpers import aggregate, assert_matches_reference, stored
from themepark_devtools import sample_data
from themepark_hourly import db, db_errors
from themepark_hourly.aggregation import AggregationError

SPEC = sample_data.SampleSpec(parks=3, rides_per_park=6, first_day=date(2025, 7, 4), seed=5)
H = "2025-07-04 15:00:00"


@pytest.fixture
def sample_hour(migrated):
    with db.connection() as conn:
        sample_data.write(conn, sample_data.Sample(SPEC))
    aggregate(migrated, H)
    return migrated


@pytest.fixture
def global_lock_wait_timeout(server):
    """innodb_lock_wait_timeout of new sessions, set for one test and restored."""
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.innodb_lock_wait_timeout")
        (original,) = cur.fetchone()

    def set_to(seconds: int) -> None:
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL innodb_lock_wait_timeout = %s", (seconds,))

    yield set_to
    set_to(original)


def _hold_hour_row(database):
    """Another session holding a row lock on the hour's ride rows, as a long writer would."""
    conn = database.server.connect(database.name)
    cur = conn.cursor()
    cur.execute(
        "SELECT ride_id FROM ride_hourly_stats WHERE hour_start_utc = %s ORDER BY ride_id LIMIT 1 FOR UPDATE", (H,)
    )
    assert cur.fetchone()
    return conn


class _OnRecord(logging.Handler):
    """Calls ``action`` in the logging thread when a record containing ``text`` is emitted."""

    def __init__(self, text: str, action) -> None:
        super().__init__(logging.WARNING)
        self.text, self.action = text, action

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.action()


def test_lock_wait_timeout_is_retried_with_back_off_and_logged(sample_hour, global_lock_wait_timeout, caplog):
    before = stored(sample_hour, H)
    global_lock_wait_timeout(1)
    blocker = _hold_hour_row(sample_hour)
    timed_out, released = threading.Event(), threading.Event()

    def release_after_the_first_timeout() -> None:
        # Runs in the aggregating thread as it logs the retry, before its back-off: it waits until
        # the blocker has let go, so the retry cannot race the release.
        timed_out.set()
        assert released.wait(timeout=30)

    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            aggregate(sample_hour, H)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome.append(exc)

    handler = _OnRecord("lock wait timeout (error 1205) on attempt 1", release_after_the_first_timeout)
    logger = logging.getLogger("themepark_hourly.aggregation")
    logger.addHandler(handler)
    worker = threading.Thread(target=run)
    try:
        with caplog.at_level(logging.WARNING, logger="themepark_hourly.aggregation"):
            worker.start()
            assert timed_out.wait(timeout=60), "the aggregation never hit the lock wait timeout"
            blocker.rollback()
            released.set()
            worker.join(timeout=60)
    finally:
        released.set()
        logger.removeHandler(handler)
        blocker.close()
    assert not worker.is_alive(), "the aggregation did not finish after the lock was released"
    assert outcome == [None]
    assert [r.getMessage().split(";")[0] for r in caplog.records if "lock wait timeout" in r.getMessage()] == [
        "ride_hourly_stats for hour 2025-07-04 15:00-16:00 UTC: lock wait timeout (error 1205) on attempt 1 of 4"
    ]
    assert stored(sample_hour, H) == before
    assert_matches_reference(sample_hour, H)


def test_connection_killed_mid_transaction_fails_clearly_and_leaves_the_hour_intact(sample_hour, server):
    before = stored(sample_hour, H)
    sample_hour.execute(
        "UPDATE ride_status_snapshots SET status = 'DOWN', computed_is_open = 0 "
        "WHERE recorded_at >= %s AND recorded_at < %s + INTERVAL 1 HOUR",
        (H, H),
    )
    blocker = _hold_hour_row(sample_hour)
    outcome: list[BaseException | None] = []

    def run():
        try:
            aggregate(sample_hour, H)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    victim = None
    for _ in range(100):  # wait until the upsert is blocked on the row lock, then kill it
        rows = sample_hour.query(
            "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE 'INSERT INTO ride_hourly_stats%%'"
        )
        if rows:
            victim = rows[0][0]
            break
        time.sleep(0.1)
    assert victim, "the aggregation never reached its upsert"
    sample_hour.execute(f"KILL {int(victim)}")
    worker.join(timeout=60)
    assert not worker.is_alive(), "the aggregation did not end after its connection was killed"
    blocker.rollback()
    blocker.close()
    [error] = outcome
    assert isinstance(error, AggregationError)
    assert "connection was lost mid-transaction" in str(error) and "2025-07-04 15:00-16:00 UTC" in str(error)
    assert stored(sample_hour, H) == before  # not half-replaced
    aggregate(sample_hour, H)  # what Airflow's retry does
    after = assert_matches_reference(sample_hour, H)
    assert after != before  # the retry did apply the changed snapshots


def test_an_hour_too_large_for_the_staging_cap_fails_clearly_and_writes_nothing(migrated, tmp_path, monkeypatch):
    """The staging tables' memory cap (1 GB in sql/) lowered to the server's minimum, 16 KB, under
    an hour of about 1,000 snapshots: the hour fails, named, and keeps its previous rows."""
    with db.connection() as conn:
        sample_data.write(conn, sample_data.Sample(sample_data.SampleSpec(parks=3, rides_per_park=60, seed=5)))
    aggregate(migrated, H)
    before = stored(migrated, H)
    assert len(before[0]) == 180
    shutil.copytree(REPO / "sql", tmp_path / "sql")
    staging_sql = tmp_path / "sql" / "aggregation" / "park_snapshots.sql"  # each task's first statements
    text = staging_sql.read_text()
    assert "SET SESSION max_heap_table_size = 1073741824;" in text
    staging_sql.write_text(text.replace("max_heap_table_size = 1073741824", "max_heap_table_size = 16384"))
    monkeypatch.setenv("THEMEPARK_SQL_DIR", str(tmp_path / "sql"))
    migrated.execute("UPDATE ride_status_snapshots SET wait_time = wait_time + 5")
    with pytest.raises(AggregationError) as failed:
        aggregate(migrated, H)
    assert "ride_hourly_stats for hour 2025-07-04 15:00-16:00 UTC" in str(failed.value)
    assert "The table 'tmp_snap' is full" in str(failed.value)
    assert stored(migrated, H) == before


def _create_users(database, dag_user, dag_password, migrate_user, migrate_password):
    sql = subprocess.run(
        [
            str(REPO / "scripts" / "create-db-users.sh"),
            "--database",
            database.name,
            "--dag-user",
            dag_user,
            "--dag-password",
            dag_password,
            "--migrate-user",
            migrate_user,
            "--migrate-password",
            migrate_password,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cmd, env = database.server.client_command(database.name)
    done = subprocess.run(cmd, input=sql, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_least_privilege_users_run_the_dag_and_no_credential_reaches_a_log(
    dag, own_dag, migrated, server, monkeypatch, capfd
):
    suffix = uuid.uuid4().hex[:8]
    dag_user, migrate_user = f"tpdag_{suffix}", f"tpmig_{suffix}"
    dag_password, migrate_password = f"Dag-{suffix}-Xyzzy", f"Mig-{suffix}-Plugh"
    _create_users(migrated, dag_user, dag_password, migrate_user, migrate_password)
    try:
        with server.connect(migrated.name) as collector:  # source data comes from the collector's user
            sample_data.write(collector, sample_data.Sample(SPEC))
        monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", server.url_for(migrated.name, dag_user, dag_password))
        monkeypatch.setenv(
            "AIRFLOW_CONN_THEMEPARK_MIGRATE", server.url_for(migrated.name, migrate_user, migrate_password)
        )
        monkeypatch.setenv("THEMEPARK_MIGRATE_CONN_ID", "themepark_migrate")

        # As a scheduled run does, the run also searches for late data (the dag user keeps its marks).
        run = own_dag.test(
            logical_date=pendulum.datetime(2025, 7, 4, 15, tz="UTC"), run_conf={"reaggregate_late_data": True}
        )
        assert str(run.state) == "success"
        assert_matches_reference(migrated, H)
        assert migrated.query("SELECT COUNT(*) FROM themepark_late_data_marks") == [(2,)]
        with db.connection() as conn, pytest.raises(Exception) as denied:
            db.query_all(conn, "CREATE TABLE not_allowed (x INT)")
        assert db_errors.error_code(denied.value) == 1142  # the dag user has no DDL
        with db.connection("themepark_migrate") as conn:  # the migrate user has
            db.query_all(conn, "CREATE TABLE IF NOT EXISTS allowed_for_migrations (x INT)")
            db.query_all(conn, "DROP TABLE allowed_for_migrations")

        with migrated.table_hidden("rides"):
            failed = dag.test(logical_date=None, run_after=pendulum.datetime(2025, 7, 4, 16, 7, tz="UTC"))
        assert str(failed.state) == "failed"
    finally:
        with server.connect() as conn, conn.cursor() as cur:
            for user in (dag_user, migrate_user):
                cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    captured = capfd.readouterr()
    table = "".join(str(r) for r in migrated.query("SELECT * FROM aggregation_log"))
    logs = captured.out + captured.err + table
    # The failure, with its cause, reached both the log table and the task's own log.
    cause = f"ride_hourly_stats for hour 2025-07-04 15:00-16:00 UTC: database error 1146: Table '{migrated.name}.rides' doesn't exist"
    [(error,)] = migrated.query("SELECT error_message FROM aggregation_log WHERE status = 'failed'")
    assert error.startswith(f"aggregate_rides failed: AggregationError: {cause}"), error
    assert cause in captured.out + captured.err
    for secret in (dag_password, migrate_password):
        assert secret not in logs


class _Forwarder:
    """A TCP relay on 127.0.0.1 in front of the test server, which a test can switch off: the
    database then becomes unreachable for new connections, as in a network outage."""

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        import socket

        self.open = False
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the kernel
        # socket listening until then.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


def test_log_task_that_cannot_reach_the_database_fails_the_run_with_the_reason(
    dag, sample_hour, server, monkeypatch, capfd
):
    from themepark_hourly.tasks import log as log_task

    relay = _Forwarder(server.host, server.port)
    monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", f"mysql://{server.user}@127.0.0.1:{relay.port}/{sample_hour.name}")
    original = log_task.write_run_log

    def database_gone(context):
        relay.close()  # the network to the database drops between aggregate_parks and log
        return original(context)

    monkeypatch.setattr(log_task, "write_run_log", database_gone)
    run = dag.test(logical_date=pendulum.datetime(2025, 7, 4, 15, tz="UTC"))
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states == {
        "migrate": "success",
        "aggregate_rides": "success",
        "aggregate_parks": "success",
        "late_data": "skipped",
        "log": "failed",
    }
    assert str(run.state) == "failed"
    out = capfd.readouterr()
    assert "Can't connect" in out.out + out.err


def test_database_restarted_between_tasks_leaves_a_whole_hour_and_a_true_log(dag, sample_hour, server, monkeypatch):
    import os

    if os.environ.get("THEMEPARK_TEST_SERVER"):
        pytest.skip("restarts only the project's private MariaDB, not a server it was given")
    from themepark_hourly.tasks import aggregate_parks as parks_task

    script = str(REPO / "scripts" / "localdb.sh")
    original = parks_task.aggregate_parks

    def restart_first(context):
        subprocess.run([script, "stop"], check=True, capture_output=True)
        subprocess.run([script, "start"], check=True, capture_output=True)
        return original(context)

    monkeypatch.setattr(parks_task, "aggregate_parks", restart_first)
    sample_hour.execute("DELETE FROM park_hourly_stats")
    run = dag.test(logical_date=pendulum.datetime(2025, 7, 4, 15, tz="UTC"))
    assert str(run.state) == "success"
    assert_matches_reference(sample_hour, H)
    [row] = sample_hour.query("SELECT status, rides_processed, parks_processed FROM aggregation_log")
    assert row == ("success", 18, 3)
