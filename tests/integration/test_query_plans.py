"""The aggregation's statements read the snapshot tables through index ranges, never whole.

Checked with EXPLAIN on a populated database (three days of a generated tracker polled around
the clock, statistics analysed), statement by statement in the order the tasks run them, so
that each one sees the temporary tables the ones before it made. In the .sql files every
reference to a snapshot table carries an alias starting with ``rss`` or ``pas``: that is how a
plan row is recognised as a read of one.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from support.snapshot_aliases import SNAPSHOT_TABLES, is_snapshot_alias
from themepark_devtools import sample_data
from themepark_hourly import aggregation, db, park_days
from themepark_hourly.hours import Hour

HOURS = ["2025-07-05 13:00:00", "2025-07-06 02:00:00"]  # morning and late evening in New York
WHOLE_READS = {"ALL", "index"}  # a full table scan, a full index scan


@pytest.fixture(scope="module")
def populated(server):
    database = server.create_database(f"tph_test_plans_{uuid.uuid4().hex[:10]}")
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AIRFLOW_CONN_THEMEPARK_DB", database.url)
            from themepark_hourly import migrations

            spec = sample_data.SampleSpec(
                parks=6, rides_per_park=20, first_day=date(2025, 7, 4), days=3, seed=3, all_day_polls=True
            )
            with db.connection() as conn:
                migrations.migrate(conn)
                counts = sample_data.write(conn, sample_data.Sample(spec))
                db.query_all(conn, "ANALYZE TABLE ride_status_snapshots, park_activity_snapshots, rides, parks")
            assert counts["ride_snapshots"] > 50_000
            yield database
    finally:
        database.drop()


def _plans(conn, statements: list[tuple[str, str]], params: dict) -> dict[str, list[dict]]:
    """EXPLAIN each statement that reads a snapshot table, then run it; plan rows by statement."""
    plans: dict[str, list[dict]] = {}
    with db.transaction(conn) as cur:
        for name, sql in statements:
            if any(table in sql for table in SNAPSHOT_TABLES):
                cur.execute("EXPLAIN " + sql, params)
                columns = [c[0] for c in cur.description]
                plans[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
            cur.execute(sql, params)
            cur.fetchall()
        conn.rollback()
    return plans


@pytest.mark.parametrize("hour", HOURS)
def test_hot_statements_use_index_ranges_on_snapshot_tables(populated, hour):
    h = Hour.parse(hour)
    ride_statements = aggregation.task_statements(aggregation.RIDE_SQL, aggregation.RIDE_STATEMENTS)
    park_statements = aggregation.task_statements(aggregation.PARK_SQL, aggregation.PARK_STATEMENTS)
    with db.connection() as conn:
        # The park statements read the hour's ride rows: write them first.
        aggregation.aggregate_rides(conn, h, 10)
        params = {**h.db_params(), **aggregation.SNAPSHOT_KINDS, "interval_minutes": 10}
        rows, _bad = park_days.compute(h.start, db.query_all(conn, dict(ride_statements)["park_timezones"]))
        params["park_days"] = json.dumps(rows)
        # Every statement in the tasks' order, both ways of finding the latest OPERATING snapshot
        # before the hour included (each sets the same column).
        plans = _plans(conn, ride_statements, params)
        park_plans = _plans(conn, park_statements, params)
        plans.update({f"park {k}": v for k, v in park_plans.items()})
    snapshot_reads = {
        name: [(row["table"], row["type"], row["key"]) for row in rows if is_snapshot_alias(str(row["table"]))]
        for name, rows in plans.items()
    }
    # The newest snapshot is read from the (recorded_at) index alone: no table in the plan.
    assert [row["Extra"] for row in plans.pop("newest_snapshot")] == ["Select tables optimized away"]
    snapshot_reads.pop("newest_snapshot")
    # Every statement that names a snapshot table reads it in the plan, and none reads it whole.
    lookups = ("last_open_recent", "settle_last_open", "settle_last_legacy_open", "last_down")
    scans = ("fill_last_open", "fill_last_legacy_open")
    assert {"fill_park_snap", "fill_snap", *scans, *lookups, "park fill_park_snap"} <= set(snapshot_reads)
    assert all(snapshot_reads.values()), snapshot_reads
    whole = {
        name: reads for name, reads in snapshot_reads.items() if any(kind in WHOLE_READS for _t, kind, _k in reads)
    }
    assert not whole, f"full scans of a snapshot table at {hour}: {whole}"
    # The look-ups into the day before the hour dive into (ride_id, status, recorded_at); the one
    # for legacy open rows into 021's (ride_id, computed_is_open, status, recorded_at).
    for name in lookups:
        keys = [key for _t, _kind, key in snapshot_reads[name]]
        wanted = "idx_rss_ride_open_status_recorded" if name == "settle_last_legacy_open" else "idx_rss_ride_status_recorded"
        assert wanted in keys, snapshot_reads[name]
    # The backfill way is a loose index scan: it jumps from ride to ride in that index instead of
    # reading every OPERATING row before the hour; the legacy open rows are found the same way in
    # migration 021's index, whose computed_is_open comes before recorded_at.
    for name, key in (("fill_last_open", "idx_rss_ride_status_recorded"),
                      ("fill_last_legacy_open", "idx_rss_ride_open_status_recorded")):
        [scan] = plans[name]
        assert scan["key"] == key and "Using index for group-by" in scan["Extra"], (name, scan)


def test_the_check_recognises_a_full_scan(populated):
    with db.connection() as conn:
        plans = _plans(conn, [("scan", "SELECT COUNT(*) FROM ride_status_snapshots rss WHERE rss.wait_time > 5")], {})
    assert [(r["table"], r["type"]) for r in plans["scan"]] == [("rss", "ALL")]


