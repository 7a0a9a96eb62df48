"""Schema migrations against a real server: idempotent files, the runner, upgrades in place."""

from __future__ import annotations

import shutil
import threading

import pytest

from support import REPO
from themepark_hourly import migrations

MIGRATIONS = REPO / "sql" / "migrations"
LEGACY_FIXTURE = REPO / "tests" / "fixtures" / "legacy_tracker.sql"


def test_each_migration_twice_with_the_plain_client(database):
    for path in sorted(MIGRATIONS.glob("*.sql")):
        first = database.run_client(path)
        assert first.returncode == 0, f"{path.name} failed: {first.stderr}"
        schema_once = database.schema()
        second = database.run_client(path)
        assert second.returncode == 0, f"{path.name} failed on its second run: {second.stderr}"
        assert database.schema() == schema_once, f"{path.name} changed the schema on its second run"


def test_runner_on_empty_database(database):
    with database.connect() as conn:
        result = migrations.migrate(conn)
    files = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert result.applied == files
    ledger = database.query(
        f"SELECT version, name, checksum, duration_ms FROM {migrations.LEDGER_TABLE} ORDER BY version"
    )
    assert [f"{v:03d}_{n}.sql" for v, n, _, _ in ledger] == files
    assert all(len(c) == 64 and d >= 0 for _, _, c, d in ledger)
    tables = {t for (t,) in database.query("SHOW TABLES")}
    assert {
        "parks",
        "rides",
        "ride_classifications",
        "ride_status_snapshots",
        "park_activity_snapshots",
        "aggregation_log",
        "ride_hourly_stats",
        "park_hourly_stats",
    } <= tables


def test_runner_on_up_to_date_database_costs_one_query(migrated):
    schema = migrated.schema()

    def counters(cur) -> dict[str, int]:
        cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Com_select', 'Questions', 'Handler_read_rnd_next')")
        return {name: int(value) for name, value in cur.fetchall()}

    with migrated.connect() as conn:
        cur = conn.cursor()
        before = counters(cur)
        result = migrations.migrate(conn)
        after = counters(cur)
    assert result.applied == []
    assert "current" in result.summary()
    assert after["Com_select"] - before["Com_select"] == 1  # the ledger read, nothing else
    # Questions: that SELECT, the ROLLBACK ending its read, and the SHOW that reads the counters.
    assert after["Questions"] - before["Questions"] == 3
    assert migrated.schema() == schema


def test_changed_applied_file_is_refused(database, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    with database.connect() as conn:
        migrations.migrate(conn, folder=folder)
    target = folder / "013_add_hourly_stats.sql"
    target.write_text(target.read_text() + "\n-- an innocent-looking edit\n")
    with database.connect() as conn, pytest.raises(migrations.MigrationError, match="013_add_hourly_stats.sql"):
        migrations.migrate(conn, folder=folder)


def test_failed_migration_is_not_recorded_and_a_fixed_rerun_completes(database, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    broken = folder / "900_broken.sql"
    broken.write_text(
        "CREATE TABLE IF NOT EXISTS halfway (id INT PRIMARY KEY);\n"
        "ALTER TABLE halfway ADD COLUMN note VARCHAR(10);\n"
        "ALTER TABLE no_such_table ADD COLUMN x INT;\n"
    )
    with database.connect() as conn, pytest.raises(migrations.MigrationError) as err:
        migrations.migrate(conn, folder=folder)
    message = str(err.value)
    assert "900_broken.sql" in message and "statement 3" in message and "no_such_table" in message
    assert database.query(f"SELECT COUNT(*) FROM {migrations.LEDGER_TABLE} WHERE version = 900") == [(0,)]
    broken.write_text(
        "CREATE TABLE IF NOT EXISTS halfway (id INT PRIMARY KEY);\n"
        "SET @ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE()\n"
        "  AND table_name = 'halfway' AND column_name = 'note') = 0,\n"
        "  'ALTER TABLE halfway ADD COLUMN note VARCHAR(10)', 'DO 0');\n"
        "PREPARE s FROM @ddl; EXECUTE s; DEALLOCATE PREPARE s;\n"
    )
    with database.connect() as conn:
        result = migrations.migrate(conn, folder=folder)
    assert result.applied == ["900_broken.sql"]


def test_eight_runners_at_once_apply_each_migration_once(database):
    files = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    barrier = threading.Barrier(8)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run():
        try:
            with database.connect() as conn:
                barrier.wait(timeout=30)
                results.append(migrations.migrate(conn, lock_timeout=120).applied)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a runner did not finish within 180 s"
    assert errors == []
    assert len(results) == 8
    applied = [name for r in results for name in r]
    assert sorted(applied) == files  # each file applied by exactly one runner
    ledger = database.query(f"SELECT version, COUNT(*) FROM {migrations.LEDGER_TABLE} GROUP BY version")
    assert len(ledger) == len(files) and all(count == 1 for _, count in ledger)


def _legacy_rows(database) -> dict[str, list[tuple]]:
    columns = {
        "parks": "park_id, queue_times_id, name, city, timezone, is_disney, is_universal, is_active",
        "rides": "ride_id, park_id, name, tier, is_active",
        "ride_classifications": "id, ride_id, tier, tier_weight",
        "ride_status_snapshots": "snapshot_id, ride_id, recorded_at, is_open, wait_time, computed_is_open, last_updated_api",
        "park_activity_snapshots": "snapshot_id, park_id, recorded_at, total_rides_tracked, rides_open, rides_closed, "
        "avg_wait_time, max_wait_time, park_appears_open, shame_score",
        "aggregation_log": "log_id, aggregation_date, aggregation_type, started_at, completed_at, status, "
        "aggregated_until_ts, error_message, parks_processed, rides_processed",
        "ride_daily_stats": "ride_id, stat_date, downtime_minutes",
    }
    return {t: database.query(f"SELECT {c} FROM {t} ORDER BY 1, 2") for t, c in columns.items()}


def test_legacy_database_upgrades_in_place(database):
    loaded = database.run_client(LEGACY_FIXTURE)
    assert loaded.returncode == 0, loaded.stderr
    before = _legacy_rows(database)
    assert all(before.values())

    with database.connect() as conn:
        result = migrations.migrate(conn)
    assert result.applied  # the legacy database has no ledger: everything runs, idempotently

    assert _legacy_rows(database) == before
    status = database.query(
        "SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = 'ride_status_snapshots' AND column_name = 'status'"
    )
    assert status == [("enum('OPERATING','DOWN','CLOSED','REFURBISHMENT')",)]
    assert database.query("SELECT COUNT(*) FROM ride_status_snapshots WHERE status IS NOT NULL") == [(0,)]
    keys = {
        k
        for (k,) in database.query(
            "SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
            "AND table_name = 'aggregation_log'"
        )
    }
    assert "unique_aggregation" not in keys
    assert {"idx_aggregation_log_date_type", "uq_aggregation_log_run"} <= keys
    # The legacy (ride_id, recorded_at) index is reused, not duplicated under another name; the
    # look-up indexes (ride_id, status, recorded_at) and (ride_id, computed_is_open, status,
    # recorded_at) are added once each.
    assert _ride_led_indexes(database) == {
        "idx_ride_time": "ride_id,recorded_at",
        "idx_rss_ride_status_recorded": "ride_id,status,recorded_at,computed_is_open",
        "idx_rss_ride_open_status_recorded": "ride_id,computed_is_open,status,recorded_at",
    }

    # What the old schema made impossible: two hourly rows on one day, with their start hour.
    for hour in (13, 14):
        database.execute(
            "INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts, "
            "aggregated_until_ts, status, dag_id, run_id) VALUES ('2025-06-01', 'hourly', %s, %s, 'success', 'd', %s)",
            (f"2025-06-01 {hour}:00:00", f"2025-06-01 {hour + 1}:00:00", f"run{hour}"),
        )
    assert database.query("SELECT COUNT(*) FROM aggregation_log WHERE aggregation_type = 'hourly'") == [(2,)]

    with database.connect() as conn:
        assert migrations.migrate(conn).applied == []


def _ride_led_indexes(database) -> dict[str, str]:
    rows = database.query(
        "SELECT index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index) FROM information_schema.statistics "
        "WHERE table_schema = DATABASE() AND table_name = 'ride_status_snapshots' GROUP BY index_name"
    )
    return {name: columns for name, columns in rows if columns.startswith("ride_id,")}


def test_lookup_index_is_not_added_when_an_equivalent_one_exists(database, tmp_path):
    """A tracker that already has (ride_id, status, recorded_at) under its own name keeps just that."""
    for path in MIGRATIONS.glob("*.sql"):
        if path.name < "018":
            shutil.copy(path, tmp_path / path.name)
    with database.connect() as conn:
        migrations.migrate(conn, folder=tmp_path)
    database.execute("ALTER TABLE ride_status_snapshots ADD INDEX ops_ride_status_time (ride_id, status, recorded_at)")
    with database.connect() as conn:
        assert [m.split("_")[0] for m in migrations.migrate(conn).applied] == ["018", "019", "020", "021"]
    indexes = _ride_led_indexes(database)
    assert "idx_rss_ride_status_recorded" not in indexes
    assert indexes["ops_ride_status_time"] == "ride_id,status,recorded_at"


