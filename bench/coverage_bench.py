"""The coverage view's benchmark: the grid of 90 days x 24 hours on make bench's tracker_30d.

    python bench/coverage_bench.py [--reps 5] [--out bench/coverage_results.json]

Loads (or reuses) make bench's tracker_30d set (80 parks, 4,240 rides, 30 days, about 18 million
ride snapshots), then, inside one transaction that is rolled back at the end, gives it what a
tracker after an outage has: stats and a success log row for its first 20 days (a few hours
failed, failed their checks or were redone for late snapshots) and nothing for its last 10 (gaps).
Stats and log rows left by other benchmarks (make bench-airflow) are deleted first, in the same
transaction. It times the view's data (coverage.build_grid: every statement against the tracker database and
the classification) for 90 days ending with the data, for all parks in UTC, and for one park in
its local time, and reports each against the budget of 1 s as a ratio. The 366-day range is timed
too, for information. The Airflow runs of the range (one query on Airflow's own metadata database,
by its unique key (dag_id, logical_date)) are not part of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import bench  # noqa: E402  (make bench's loader and server settings)
from themepark_hourly import coverage, db  # noqa: E402
from themepark_hourly.sql_files import named_statements  # noqa: E402

BUDGET_SECONDS = 1.0
SQL_FILE = "coverage/bench.sql"


def _seed_outage(conn, first_day: date) -> dict[str, int]:
    """Stats and log rows for the first 20 days of data, none for the last 10 (in the open transaction)."""
    sql = named_statements(SQL_FILE)
    start = datetime.combine(first_day, datetime.min.time())
    params = {"first_hour": start, "hours": 20 * 24}
    counts = {}
    for name in (
        "coverage_clear_park_stats", "coverage_clear_ride_stats", "coverage_clear_log",
        "coverage_hours", "coverage_fill_hours", "coverage_park_stats", "coverage_ride_stats", "coverage_log",
    ):  # fmt: skip
        with conn.cursor() as cur:
            cur.execute(sql[name], params)
            counts[name] = cur.rowcount
    return counts


def _time(conn, request: coverage.Request, reps: int) -> dict[str, float]:
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        grid = coverage.build_grid(conn, request, now=datetime(2025, 8, 1))
        seconds.append(time.perf_counter() - t0)
    median = statistics.median(seconds)
    return {
        "median_s": round(median, 4),
        "min_s": round(min(seconds), 4),
        "max_s": round(max(seconds), 4),
        "ratio_to_budget": round(median / BUDGET_SECONDS, 3),
        "hours": sum(grid.counts.values()),
        "counts": grid.counts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--db-prefix", default="themepark_bench_")
    parser.add_argument("--out", default=str(REPO / "bench/coverage_results.json"))
    args = parser.parse_args(argv)

    server = bench.server_url()
    database = f"{args.db_prefix}tracker_30d"
    bench.load(server, database, bench.DATASETS["tracker_30d"])
    results: dict[str, object] = {"database": database}
    with bench.connected(server, database) as conn:
        first, last = db.query_one(conn, named_statements(SQL_FILE)["data_span"])
        first_day = first.date() if first.hour < 12 else date.fromordinal(first.date().toordinal() + 1)
        try:
            results["seeded"] = _seed_outage(conn, first_day)
            end = last.date()
            cases = {
                "90 days, all parks, UTC": coverage.Request(date.fromordinal(end.toordinal() - 89), end, None, False),
                "90 days, one park, local time": coverage.Request(
                    date.fromordinal(end.toordinal() - 89),
                    end,
                    int(db.query_one(conn, named_statements(SQL_FILE)["first_park"])[0]),
                    True,
                ),
                "366 days, all parks, UTC": coverage.Request(date.fromordinal(end.toordinal() - 365), end, None, False),
            }
            for name, request in cases.items():
                results[name] = _time(conn, request, args.reps)
                print(f"{name}: median {results[name]['median_s']} s, {results[name]['ratio_to_budget']} of the 1 s budget "
                      f"({results[name]['counts']})")  # fmt: skip
        finally:
            conn.rollback()
            db.query_all(conn, named_statements(SQL_FILE)["drop_coverage_hours"])
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
