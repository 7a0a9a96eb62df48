"""`make bench` on a small tracker: its loader, its measurement and its per-ride baseline, which
must write exactly the rows the DAG writes (an independent, per-ride reading of the rules on
around-the-clock data, copies of parks included)."""

from __future__ import annotations

import importlib.util
import sys
import uuid

from support import REPO, dbtools
from themepark_hourly import db
from themepark_hourly.hours import Hour


def _bench_module():
    spec = importlib.util.spec_from_file_location("themepark_bench", REPO / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_small_bench_agrees_with_its_baseline_and_reuses_its_data(server, monkeypatch):
    bench = _bench_module()
    # bench.connected() points the Airflow connection at its database: restored after the test.
    monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", "mysql://unused@127.0.0.1/unused")
    url = server.url_for("x").rsplit("/", 1)[0]
    name = f"tph_test_bench_{uuid.uuid4().hex[:10]}"
    ds = bench.Dataset("small", copies=2, days=2, parks=10, rides_per_park=4)
    try:
        marker = bench.load(url, name, ds, progress=lambda _: None)
        with bench.connected(url, name) as conn:
            stored = db.query_one(conn, "SELECT COUNT(*), COUNT(DISTINCT ride_id) FROM ride_status_snapshots")
        assert stored == (marker["ride_snapshots"], 10 * 4 * 2)
        messages: list[str] = []
        assert bench.load(url, name, ds, progress=messages.append) == marker
        assert messages and "reusing" in messages[0]

        with bench.connected(url, name) as conn:
            results = [
                bench.measure(conn, ds, label, Hour(start), reps=1, baseline_reps=1)
                for label, start in bench.HOURS.items()
            ]
            for m in results:
                bench.measure_late_search(conn, m, reps=1)  # raises if any of the newest rows were found late
        for m in results:
            assert m.baseline_rows_differing == 0, m
            # Polls around the clock: every ride has snapshots in every hour, every park a row.
            assert m.rides_written == 80 and m.parks_written == 20
            assert m.ride_snapshots_read >= 80 * 5
            # Every figure the report prints was measured, and the floor's engine reads cover
            # every snapshot of the hour (the counters are those of the floor's own query).
            assert set(m.seconds) == {"floor", "aggregate_rides", "aggregate_parks", "both", "baseline", "late_search"}
            assert m.ratios["late_search_over_ours"] == round(m.seconds["late_search"] / m.seconds["both"], 3)
            assert m.ratios["baseline_over_ours"] == round(m.seconds["baseline"] / m.seconds["both"], 1)
            assert m.handler_reads["floor"] >= m.ride_snapshots_read
        checks = bench.targets(results)
        assert [ok for name, _v, _l, ok in checks if name.startswith("baseline rows differing")] == [True, True]
    finally:
        dbtools.TestDatabase(server, name).drop()


def test_bench_times_every_statement_of_a_whole_dag_run_beside_the_floor(server, own_dag, monkeypatch):
    # The whole run as `make bench` measures it: Airflow runs every task (dag.test) on a small
    # set, the server's slow log times each statement; the figures must come from those statements.
    bench = _bench_module()
    monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", "mysql://unused@127.0.0.1/unused")
    url = server.url_for("x").rsplit("/", 1)[0]
    name = f"tph_test_bench_{uuid.uuid4().hex[:10]}"
    ds = bench.Dataset("small", copies=1, days=2, parks=4, rides_per_park=3)
    try:
        bench.load(url, name, ds, progress=lambda _: None)
        runs = [bench.measure_whole_run(url, name, ds, label, Hour(start), reps=1, dag=own_dag)
                for label, start in bench.HOURS.items()]
        with bench.connected(url, name) as conn:
            hour_snapshots = [
                int(db.query_one(conn, "SELECT COUNT(*) FROM ride_status_snapshots WHERE recorded_at >= %(hour_start)s "
                                       "AND recorded_at < %(hour_end)s", Hour(start).db_params())[0])
                for start in bench.HOURS.values()
            ]
            # Two runs an hour (warm-up and measured), each logged by its own `log` task.
            logged_runs = db.query_one(conn, "SELECT COUNT(*) FROM aggregation_log WHERE status = 'success'")[0]
    finally:
        dbtools.TestDatabase(server, name).drop()
    assert logged_runs == 2 * len(bench.HOURS)
    for w, snapshots in zip(runs, hour_snapshots, strict=True):
        statements = w.log.statements
        assert snapshots > 0 and w.statements == len(statements) >= 10
        # Every task reached the server: the aggregation's read of the hour's ride snapshots (all
        # of them), the late-data search's marks, the log task's row.
        assert any(s.sql.lstrip().startswith("INSERT") and "FROM ride_status_snapshots" in s.sql
                   and s.rows_examined >= snapshots for s in statements), w.top
        assert any("themepark_late_data_marks" in s.sql for s in statements)
        assert any(s.sql.lstrip().startswith("INSERT INTO aggregation_log") for s in statements)
        # The bench's own setup between runs (the late-data marks it places) is not counted.
        assert not any("GREATEST(COALESCE(MAX(snapshot_id)" in s.sql for s in statements)
        assert w.rows_examined == sum(s.rows_examined for s in statements) > 0
        assert w.seconds == round(sum(s.seconds for s in statements), 6) > 0
        # The floor is the floor statement alone, timed the same way: it reads the hour.
        assert w.floor_rows_examined >= snapshots and w.floor_seconds > 0
        assert w.run_over_floor == round(w.seconds / w.floor_seconds, 2)
        assert 0 < len(w.top) <= 5 and w.top == sorted(w.top, key=lambda t: t["seconds"], reverse=True)
        assert sum(t["count"] for t in w.top) <= len(statements)
        assert "log" not in w.as_json()
        assert w.other_sessions_seen == 0  # the test's database is its own
    checks = {n: ok for n, _v, _l, ok in bench.targets([], runs)}
    assert [n for n in checks if n.startswith("whole run / floor, small")] == [
        f"whole run / floor, small, {label}" for label in bench.HOURS
    ]
    assert all(checks[f"whole run / floor, small, {label}"] is not None for label in bench.HOURS)


def test_bench_compare_runs_each_version_it_is_given_in_turn(server, monkeypatch, tmp_path):
    # bench/compare.py on a small set: "before" is a copy of this checkout's code and SQL; each
    # block must run the copy it was pointed at (compare() exits otherwise) and be counted.
    import shutil

    bench = _bench_module()
    spec = importlib.util.spec_from_file_location("themepark_bench_compare", REPO / "bench" / "compare.py")
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", "mysql://unused@127.0.0.1/unused")
    url = server.url_for("x").rsplit("/", 1)[0]
    name = f"tph_test_bench_{uuid.uuid4().hex[:10]}"
    before = tmp_path / "before"
    for part in ("plugins", "devtools", "sql"):
        shutil.copytree(REPO / part, before / part, ignore=shutil.ignore_patterns("__pycache__"))
    try:
        bench.load(url, name, bench.Dataset("small", copies=1, days=2, parks=4, rides_per_park=3), progress=lambda _: None)
        hours = {label: start.strftime("%Y-%m-%d %H:%M:%S") for label, start in bench.HOURS.items()}
        result = compare.compare(f"{url}/{name}", before, REPO, hours, blocks=2, reps=2, lookups="dives")
    finally:
        dbtools.TestDatabase(server, name).drop()
    assert list(result) == list(hours)
    for r in result.values():
        assert r["runs"] == {"before": 4, "after": 4}
        # Each version's blocks ran its own copy of the package, never the other's.
        assert r["code"] == {
            "before": [str(before / "plugins" / "themepark_hourly" / "aggregation.py")],
            "after": [str(REPO / "plugins" / "themepark_hourly" / "aggregation.py")],
        }
