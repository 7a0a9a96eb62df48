"""Soak run: many consecutive hours aggregated in one process, watching connections and memory.

    python -m themepark_devtools.soak --hours 200 --parks 8 --rides-per-park 52

Loads the seeded sample (enough days for the hours) into the database of the Airflow connection
``themepark_db`` when it has no sample data yet, then aggregates hour after hour through the same
functions the DAG's tasks call, and prints (and returns) server connections and the process's
resident memory along the way. Used by `make soak` and, smaller, by the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from themepark_devtools import sample_data
from themepark_hourly import aggregation, db, migrations
from themepark_hourly.hours import Hour
from themepark_hourly.sql_files import named_statements


@dataclass
class SoakReport:
    hours: int
    seconds: float
    rides_written: int
    connections_before: int
    connections_after: int
    rss_mb_after_warmup: float
    rss_mb_at_end: float
    max_rss_mb: float


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _connections(conn) -> int:
    return int(db.query_one(conn, "SHOW GLOBAL STATUS LIKE 'Threads_connected'")[1])


def run(
    hours: int, parks: int, rides_per_park: int, first_day: date = date(2025, 7, 1), warmup: int = 10, progress=print
) -> SoakReport:
    days = math.ceil(hours / 24) + 1
    spec = sample_data.SampleSpec(parks=parks, rides_per_park=rides_per_park, first_day=first_day, days=days, seed=1)
    sql = named_statements(sample_data.SQL_FILE)
    with db.connection() as conn:
        migrations.migrate(conn)
        if not db.query_one(conn, sql["count_sample_snapshots"], (sample_data.SAMPLE_RIDE_ID_BASE,))[0]:
            counts = sample_data.write(conn, sample_data.Sample(spec))
            progress(f"loaded {counts['ride_snapshots']} ride snapshots over {days} days")
    with db.connection() as probe:
        before = _connections(probe)
        start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
        t0 = time.monotonic()
        written = 0
        rss_warm = 0.0
        for k in range(hours):
            hour = Hour(start + timedelta(hours=k))
            with db.connection() as conn:
                written += aggregation.aggregate_rides(conn, hour, 10).rides_written
                aggregation.aggregate_parks(conn, hour)
            if k + 1 == warmup:
                rss_warm = _rss_mb()
            if (k + 1) % 50 == 0 or k + 1 == hours:
                progress(
                    f"{k + 1} hours, {time.monotonic() - t0:.1f} s, server connections "
                    f"{_connections(probe)}, RSS {_rss_mb():.1f} MB"
                )
        after = _connections(probe)
    return SoakReport(
        hours,
        round(time.monotonic() - t0, 1),
        written,
        before,
        after,
        round(rss_warm, 1),
        round(_rss_mb(), 1),
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=200)
    parser.add_argument("--parks", type=int, default=8)
    parser.add_argument("--rides-per-park", type=int, default=52)
    args = parser.parse_args()
    report = run(args.hours, args.parks, args.rides_per_park)
    print(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    main()
