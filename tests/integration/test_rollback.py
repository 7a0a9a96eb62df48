"""Rolling migrations back (scripts/migrate.sh down) against a real server: the legacy tracker
fixture upgraded, run through the DAG, taken back to 012 and up again; refusals, dry runs, status
and the migration lock."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import time
from datetime import datetime

import pendulum

from support import REPO
from themepark_hourly import db, migrate_cli, migrations

MIGRATIONS = REPO / "sql" / "migrations"
DOWN = MIGRATIONS / "down"
LEGACY_FIXTURE = REPO / "tests" / "fixtures" / "legacy_tracker.sql"
ARCHIVES = {"aggregation_log_hourly_archive", "ride_hourly_stats_archive", "park_hourly_stats_archive"}
HOURS = [pendulum.datetime(2025, 6, 1, hour, tz="UTC") for hour in (13, 14, 15)]
RIDE_COLUMNS = (
    "hour_start_utc, ride_id, park_id, avg_wait_time_minutes, operating_snapshots, down_snapshots, "
    "downtime_hours, uptime_percentage, snapshot_count, ride_operated"
)
PARK_COLUMNS = (
    "hour_start_utc, park_id, shame_score, avg_wait_time_minutes, rides_operating, rides_down, "
    "total_downtime_hours, weighted_downtime_hours, effective_park_weight, snapshot_count, park_was_open"
)
LOG_COLUMNS = "log_id, aggregation_date, run_id, aggregated_from_ts, aggregated_until_ts, status, attempts, reason, rides_processed"


def cli(*args: str) -> tuple[int, str, str]:
    """migrate_cli.main in this process (what scripts/migrate.sh runs): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = migrate_cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def at_007(database, tmp_path, legacy: bool = True) -> None:
    """The legacy fixture (or an empty database) with migrations 001-007 applied by the runner."""
    if legacy:
        loaded = database.run_client(LEGACY_FIXTURE)
        assert loaded.returncode == 0, loaded.stderr
    folder = tmp_path / "upto007"
    folder.mkdir()
    for path in MIGRATIONS.glob("*.sql"):
        if int(path.name[:3]) <= 7:
            shutil.copy(path, folder / path.name)
    with database.connect() as conn:
        migrations.migrate(conn, folder=folder)


def checksums(database) -> dict[str, int]:
    return {table: value for table, value in database.query(f"CHECKSUM TABLE {', '.join(database.schema())}")}


def state(database) -> tuple[dict[str, str], dict[str, int]]:
    """Every table's SHOW CREATE TABLE and checksum: what 'nothing changed' compares."""
    return database.schema(), checksums(database)


def rows(database, table: str, columns: str) -> list[tuple]:
    return database.query(f"SELECT {columns} FROM {table} ORDER BY 1, 2")


def hourly_log(database, table: str = "aggregation_log") -> list[tuple]:
    where = "" if table != "aggregation_log" else "WHERE aggregation_type = 'hourly'"
    return database.query(f"SELECT {LOG_COLUMNS} FROM {table} {where} ORDER BY log_id")


def ledger_versions(database) -> list[int]:
    return [v for (v,) in database.query(f"SELECT version FROM {migrations.LEDGER_TABLE} ORDER BY version")]


def test_each_down_step_twice_in_the_plain_client_takes_a_new_database_back_to_007(database, tmp_path):
    # On a new database 004/005 created the snapshot indexes under the names 017 uses: 017 skipped
    # them, and its down step must leave them (they are not 017's).
    at_007(database, tmp_path, legacy=False)
    before = database.schema()
    with database.connect() as conn:
        migrations.migrate(conn)
    add_hourly_rows(database)
    for path in sorted(DOWN.glob("*.down.sql"), reverse=True):
        first = database.run_client(path)
        assert first.returncode == 0, f"{path.name} failed: {first.stderr}"
        once = state(database)
        second = database.run_client(path)
        assert second.returncode == 0, f"{path.name} failed on its second run: {second.stderr}"
        assert state(database) == once, f"{path.name} changed something on its second run"
    after = database.schema()
    assert set(after) - set(before) == ARCHIVES
    assert {t: after[t] for t in before} == before
    assert database.query("SELECT run_id, attempts, archived_by_step FROM aggregation_log_hourly_archive") == [
        ("run13", 2, 19),
        ("run14", 2, 19),
    ]
    assert database.query("SELECT COUNT(*) FROM ride_hourly_stats_archive") == [(1,)]


def test_a_database_at_016_goes_down_with_its_hourly_rows_archived_by_016s_step(database, tmp_path):
    at_007(database, tmp_path)
    folder = tmp_path / "upto016"
    folder.mkdir()
    for path in MIGRATIONS.glob("*.sql"):
        if int(path.name[:3]) <= 16:
            shutil.copy(path, folder / path.name)
    with database.connect() as conn:
        migrations.migrate(conn, folder=folder)
    database.execute(
        "INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts, status, dag_id, run_id) "
        "VALUES ('2025-06-01', 'hourly', '2025-06-01 13:00:00', 'success', 'd', 'r13'), "
        "('2025-06-01', 'hourly', '2025-06-01 14:00:00', 'success', 'd', 'r14')"
    )
    code, out, err = cli("down", "--to", "012")
    assert code == 0, err
    assert re.findall(r"undoing (\d{3})", out) == ["016", "015", "014", "013"]
    assert database.query(
        "SELECT run_id, aggregated_from_ts, attempts, archived_by_step FROM aggregation_log_hourly_archive ORDER BY 1"
    ) == [("r13", datetime(2025, 6, 1, 13), None, 16), ("r14", datetime(2025, 6, 1, 14), None, 16)]
    assert ledger_versions(database) == [1, 2, 3, 4, 5, 6, 7]


def test_legacy_tracker_up_through_the_dag_down_to_012_and_up_again(dag, database, tmp_path):
    at_007(database, tmp_path)
    # The DBA's own index on the snapshot time, under the very name 017 would give it: 017 finds
    # an index led by recorded_at and adds none, so the way down must keep this one.
    database.execute("ALTER TABLE park_activity_snapshots ADD INDEX idx_pas_recorded_at (recorded_at)")
    base_schema, base_sums = state(database)

    assert cli("up")[0] == 0
    head = database.schema()
    created = database.query("SELECT table_name, index_name, version FROM themepark_schema_created_indexes")
    assert ("ride_status_snapshots", "idx_rss_recorded_at", 17) in created
    assert ("park_activity_snapshots", "idx_pas_park_recorded", 17) in created
    assert not any(index == "idx_pas_recorded_at" for _, index, _ in created)

    for hour in HOURS:
        run = dag.test(logical_date=hour)
        assert str(run.state) == "success", hour
    rides_before = rows(database, "ride_hourly_stats", RIDE_COLUMNS)
    parks_before = rows(database, "park_hourly_stats", PARK_COLUMNS)
    log_before = hourly_log(database)
    assert rides_before and parks_before
    assert [r[3] for r in log_before] == [h.naive() for h in HOURS]

    code, out, err = cli("down", "--to", "012")
    assert code == 0, err
    assert "undid 9 migration(s)" in out
    after = database.schema()
    assert set(after) - set(base_schema) == ARCHIVES
    for table, create in base_schema.items():
        assert after[table] == create, f"{table} is not as it was before the upgrade"
    assert "KEY `idx_pas_recorded_at` (`recorded_at`)" in after["park_activity_snapshots"]
    sums = checksums(database)
    assert {t: sums[t] for t in base_sums} == base_sums  # legacy rows (and the ledger's 001-007) unchanged
    assert ledger_versions(database) == [1, 2, 3, 4, 5, 6, 7]
    assert hourly_log(database, "aggregation_log_hourly_archive") == log_before
    assert database.query("SELECT COUNT(*) FROM aggregation_log_hourly_archive") == [(3,)]
    assert rows(database, "ride_hourly_stats_archive", RIDE_COLUMNS) == rides_before
    assert rows(database, "park_hourly_stats_archive", PARK_COLUMNS) == parks_before

    down_state = state(database)
    code, out, _ = cli("down", "--to", "012")
    assert (code, out.strip()) == (0, "nothing to undo: no migration above 012 is applied")
    assert state(database) == down_state

    assert cli("up")[0] == 0
    assert {t: s for t, s in database.schema().items() if t not in ARCHIVES} == head
    run = dag.test(logical_date=HOURS[1])
    assert str(run.state) == "success"
    hour = HOURS[1].naive()
    assert rows(database, "ride_hourly_stats", RIDE_COLUMNS) == [r for r in rides_before if r[0] == hour]
    assert rows(database, "park_hourly_stats", PARK_COLUMNS) == [r for r in parks_before if r[0] == hour]


def _upgraded_with_hourly_rows(database, tmp_path) -> None:
    at_007(database, tmp_path)
    assert cli("up")[0] == 0
    add_hourly_rows(database)


def add_hourly_rows(database) -> None:
    """Two hourly log rows of one day (attempts 2) and one ride_hourly_stats row, at the head schema."""
    for hour in (13, 14):
        database.execute(
            "INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts, aggregated_until_ts, "
            "status, dag_id, run_id, attempts) VALUES ('2025-06-01', 'hourly', %s, %s, 'success', 'd', %s, 2)",
            (f"2025-06-01 {hour}:00:00", f"2025-06-01 {hour + 1}:00:00", f"run{hour}"),
        )
    database.execute(
        "INSERT INTO ride_hourly_stats (hour_start_utc, ride_id, park_id) VALUES ('2025-06-01 14:00', 10, 1)"
    )


def test_refused_with_nothing_changed_when_015s_key_cannot_come_back(database, tmp_path):
    _upgraded_with_hourly_rows(database, tmp_path)
    # The old cron job wrote a second weekly row for the week the fixture already has one of.
    database.execute(
        "INSERT INTO aggregation_log (aggregation_date, aggregation_type, status) VALUES ('2025-05-26', 'weekly', 'success')"
    )
    before = state(database)
    for dry_run in ((), ("--dry-run",)):
        code, out, err = cli("down", "--to", "012", *dry_run)
        assert code == migrate_cli.REFUSED
        assert "refused, nothing changed" in err
        assert (
            "2 aggregation_log rows that are not hourly share 1 (date, type) pair(s): 2025-05-26 weekly (2 rows)" in err
        )
        assert out == ""
        assert state(database) == before
    # Above 015 nothing stands in the way.
    assert cli("down", "--to", "015")[0] == 0
    assert ledger_versions(database)[-1] == 15


def test_dry_run_prints_each_steps_changes_and_changes_nothing(database, tmp_path):
    _upgraded_with_hourly_rows(database, tmp_path)
    before = state(database)
    code, out, err = cli("down", "--to", "012", "--dry-run")
    assert code == 0, err
    assert state(database) == before
    assert ledger_versions(database)[-1] == 21
    steps = re.findall(r"^(\d{3}) \S+ would run:$", out, re.M)
    assert steps == ["021", "020", "019", "018", "017", "016", "015", "014", "013"]
    assert "FROM aggregation_log WHERE aggregation_type = 'hourly'  -- 2 row(s)" in out
    assert out.count("-- 0 rows (an earlier step moves them)") == 3
    for ddl in (
        "ALTER TABLE aggregation_log DROP COLUMN attempts",
        "ALTER TABLE ride_status_snapshots DROP INDEX idx_rss_ride_status_recorded",
        "ALTER TABLE park_activity_snapshots DROP INDEX idx_pas_recorded_at",
        "ALTER TABLE aggregation_log ADD UNIQUE KEY unique_aggregation (aggregation_date, aggregation_type)",
        "ALTER TABLE aggregation_log MODIFY COLUMN aggregation_type ENUM('daily','weekly','monthly','yearly') NOT NULL",
        "RENAME TABLE ride_hourly_stats TO ride_hourly_stats_archive  -- ride_hourly_stats has 1 row(s)",
        "DROP TABLE IF EXISTS themepark_late_data_marks",
    ):
        assert ddl in out
    assert out.rstrip().endswith("nothing changed (dry run)")


def test_refused_when_an_archive_of_an_earlier_rollback_is_in_the_way(database, tmp_path):
    _upgraded_with_hourly_rows(database, tmp_path)
    database.execute("CREATE TABLE ride_hourly_stats_archive (x INT)")
    before = state(database)
    code, _, err = cli("down", "--to", "012")
    assert code == migrate_cli.REFUSED
    assert "ride_hourly_stats_archive already exists" in err
    assert state(database) == before


def test_below_007_and_unknown_versions_are_refused(database, tmp_path):
    _upgraded_with_hourly_rows(database, tmp_path)
    before = state(database)
    code, _, err = cli("down", "--to", "005")
    assert code == migrate_cli.REFUSED and "never undone" in err
    database.execute(
        f"INSERT INTO {migrations.LEDGER_TABLE} (version, name, checksum, duration_ms) VALUES (900, 'x', 'y', 0)"
    )
    before = state(database)
    code, _, err = cli("down", "--to", "012")
    assert code == migrate_cli.REFUSED and "no down step for applied migration(s) 900" in err
    assert state(database) == before


def _script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "scripts" / "migrate.sh"), *args], env=env, capture_output=True, text=True, check=False
    )


def test_status_and_up_through_the_script_on_the_migrate_connection(database, tmp_path):
    at_007(database, tmp_path)
    # The DAG's own connection points nowhere: the script must use THEMEPARK_MIGRATE_CONN_ID's.
    env = dict(
        os.environ,
        AIRFLOW_CONN_THEMEPARK_DB="mysql://nobody@127.0.0.1:1/nowhere",
        THEMEPARK_MIGRATE_CONN_ID="tp_rollback_migrate",
        AIRFLOW_CONN_TP_ROLLBACK_MIGRATE=database.url,
    )
    done = _script("status", env=env)
    assert done.returncode == 0, done.stderr
    applied, pending = done.stdout.split("pending:")
    assert re.findall(r"^  (\d{3})_", applied, re.M) == ["001", "002", "003", "004", "005", "006", "007"]
    assert re.findall(r"^  (\d{3})_", pending, re.M) == ["013", "014", "015", "016", "017", "018", "019", "020", "021"]
    assert _script("up", env=env).returncode == 0
    done = _script("status", env=env)
    assert "pending: none" in done.stdout
    assert ledger_versions(database) == [1, 2, 3, 4, 5, 6, 7, 13, 14, 15, 16, 17, 18, 19, 20, 21]
    assert _script("down", "--to", "12x", env=env).returncode == 2


def test_refuses_at_once_while_a_run_holds_the_migration_lock(database, tmp_path):
    at_007(database, tmp_path)
    with database.connect() as holder:
        with holder.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0), CONNECTION_ID()", (db.lock_name("migrate", database.name),))
            taken, holder_id = cur.fetchone()
        assert taken == 1
        before = state(database)
        started = time.monotonic()
        code, _, err = cli("up")
        # THEMEPARK_LOCK_TIMEOUT_SECONDS (600 s) is the DAG's wait; the command does not wait.
        assert time.monotonic() - started < 30
        assert code == migrate_cli.REFUSED
        assert "refused, nothing changed" in err and "DAG run" in err
        assert state(database) == before
        code, out, _ = cli("status")
        assert code == 0 and f"the migration lock is held by connection {holder_id}" in out
    assert cli("up")[0] == 0  # the holder's connection closed: its lock went with it
    with database.connect() as holder:
        with holder.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (db.lock_name("migrate", database.name),))
        before = state(database)
        for dry_run in ((), ("--dry-run",)):
            code, _, err = cli("down", "--to", "012", *dry_run)
            assert code == migrate_cli.REFUSED and "refused, nothing changed" in err
        assert state(database) == before


def test_indexes_not_recorded_as_the_packages_are_kept(database, tmp_path):
    # A database upgraded by a release that did not record its indexes: no side table at all.
    _upgraded_with_hourly_rows(database, tmp_path)
    database.execute("DROP TABLE themepark_schema_created_indexes")
    indexes_before = {
        t: database.query(f"SHOW INDEX FROM {t}") for t in ("ride_status_snapshots", "park_activity_snapshots")
    }
    before = state(database)
    code, out, err = cli("down", "--to", "012", "--dry-run")
    assert code == 0, err
    assert out.count("(no index recorded as created by this package: none would be dropped)") == 3  # 017, 018, 021
    assert set(re.findall(r"ALTER TABLE (\w+) DROP INDEX", out)) == {"aggregation_log"}  # 015/016's only
    assert state(database) == before
    assert cli("down", "--to", "012")[0] == 0
    assert {t: database.query(f"SHOW INDEX FROM {t}") for t in indexes_before} == indexes_before
    assert ledger_versions(database) == [1, 2, 3, 4, 5, 6, 7]
