"""`make bench-compare BEFORE=<git revision>`: the aggregation of that revision against this checkout's.

    python bench/compare.py --before REV [--dataset tracker_30d] [--blocks 6] [--reps 5] [--lookups dives]

Two `make bench` runs one after the other differ by as much as the machine's noise (up to a
tenth here), more than a small change to the SQL. This runs both versions in turn on the same
data: REV is checked out into a temporary git worktree, then for each of bench.py's hours (the
20-days-earlier one too on tracker_30d) it alternates blocks of repetitions, old code then new,
each block a fresh process whose import path and THEMEPARK_SQL_DIR point at that version, and
prints the medians of aggregate_rides and aggregate_parks (warm caches, one connection, no
Airflow). The data set must have been loaded by `make bench` (same server: THEMEPARK_BENCH_SERVER,
else the private MariaDB). Both versions write the hour's rows into the bench database, as
`make bench` does; the last block is the new code's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTERVAL_MINUTES = 10  # bench.py's


def _child(url: str, hour: str, reps: int, lookups: str) -> None:
    """Runs in the version under test: time the two aggregation functions, print JSON."""
    from themepark_hourly import aggregation, config, db
    from themepark_hourly.hours import Hour

    if lookups != "auto":  # force one way of the look-ups before the hour (bench.py's data has a
        # day after each hour, so "auto" takes the backfill's scan; the scheduler takes the dives)
        forced = aggregation.LAST_OPEN_RECENT if lookups == "dives" else aggregation.LAST_OPEN_ANY_HOUR
        aggregation.last_open_statements = lambda _hour, _newest: forced
    os.environ["AIRFLOW_CONN_THEMEPARK_DB"] = url
    h = Hour.parse(hour)
    times = []
    with db.connection() as conn:
        aggregation.aggregate_rides(conn, h, INTERVAL_MINUTES)  # warm the caches
        aggregation.aggregate_parks(conn, h)
        for _ in range(reps):
            t0 = time.perf_counter()
            aggregation.aggregate_rides(conn, h, INTERVAL_MINUTES)
            t1 = time.perf_counter()
            aggregation.aggregate_parks(conn, h)
            times.append((t1 - t0, time.perf_counter() - t1))
    print(json.dumps({"code": aggregation.__file__, "sql": str(config.sql_dir()), "times": times}))


def _block(code: Path, url: str, hour: str, reps: int, lookups: str = "auto") -> dict:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(code / "plugins"), str(code / "devtools")]),
        THEMEPARK_SQL_DIR=str(code / "sql"),
    )
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, hour, str(reps), lookups],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        sys.exit(f"bench-compare: the run of {code} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # The point of it all: each block ran the version it was given, code and SQL alike.
    if not (Path(out["code"]).is_relative_to(code) and Path(out["sql"]).is_relative_to(code)):
        sys.exit(f"bench-compare: a block meant for {code} ran {out['code']} with {out['sql']}")
    return out


def compare(
    url: str, before: Path, after: Path, hours: dict[str, str], blocks: int, reps: int, lookups: str = "auto"
) -> dict[str, dict]:
    """Per hour label: median ms of each task for each version, and after / before of both."""
    result = {}
    for label, hour in hours.items():
        runs: dict[str, list[list[float]]] = {"before": [], "after": []}
        ran: dict[str, set[str]] = {"before": set(), "after": set()}
        for block in range(blocks):
            # ABBA: each version goes first in every other pair, so whatever one block leaves
            # behind (writes to purge, warm caches) does not always favour the same side.
            pair = (("before", before), ("after", after))
            for version, code in pair if block % 2 == 0 else pair[::-1]:
                out = _block(code, url, hour, reps, lookups)
                runs[version] += out["times"]
                ran[version].add(out["code"])
        med = {k: [statistics.median(t[i] for t in v) * 1000 for i in (0, 1)] for k, v in runs.items()}
        result[label] = {
            "code": {k: sorted(v) for k, v in ran.items()},
            "runs": {k: len(v) for k, v in runs.items()},
            "rides_ms": {k: round(v[0], 1) for k, v in med.items()},
            "parks_ms": {k: round(v[1], 2) for k, v in med.items()},
            "both_after_over_before": round(sum(med["after"]) / sum(med["before"]), 3),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    import bench  # bench.py beside this file: its data sets, hours and server (not in the children)

    if bench.INTERVAL_MINUTES != INTERVAL_MINUTES:
        sys.exit(f"bench-compare: bench.py's interval is {bench.INTERVAL_MINUTES} min, this script's {INTERVAL_MINUTES}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare with (e.g. main, HEAD~1)")
    parser.add_argument("--dataset", default="tracker_30d", choices=list(bench.DATASETS))
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--db-prefix", default="themepark_bench_")
    parser.add_argument("--lookups", choices=("auto", "dives", "scan"), default="auto",
                        help="force the scheduler's per-ride dives or the backfill's scan (auto: what the data picks)")
    args = parser.parse_args(argv)
    if args.blocks < 1 or args.reps < 1:
        parser.error("--blocks and --reps must be at least 1")

    ds = bench.DATASETS[args.dataset]
    url = f"{bench.server_url()}/{args.db_prefix}{ds.name}"
    hours = dict(bench.HOURS)
    if ds.old_hours:
        hours.update(bench.OLD_HOURS)
    hours = {label: start.strftime("%Y-%m-%d %H:%M:%S") for label, start in hours.items()}
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.before],
                         capture_output=True, text=True, check=True).stdout.strip()
    # A kill (a CI timeout, a closed terminal) unwinds like Ctrl-C, so the worktree is removed.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    # A worktree left by a run killed harder than that (SIGKILL) is forgotten here.
    subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], check=False)
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        old = Path(tmp) / "before"
        try:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(old), rev], check=True
            )
            print(f"{args.dataset}: {rev} (before) against this checkout (after), look-ups {args.lookups}, "
                  f"{args.blocks} blocks x {args.reps} repetitions each, alternating; median ms")
            result = compare(url, old, REPO, hours, args.blocks, args.reps, args.lookups)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], check=False)
    print(f"{'hour':26s} {'rides before':>12s} {'after':>8s} {'parks before':>12s} {'after':>8s} {'both after/before':>18s}")
    for label, r in result.items():
        print(f"{label:26s} {r['rides_ms']['before']:12.1f} {r['rides_ms']['after']:8.1f} "
              f"{r['parks_ms']['before']:12.2f} {r['parks_ms']['after']:8.2f} {r['both_after_over_before']:18.3f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(main())
