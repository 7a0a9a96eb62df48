"""`make bench-airflow`: the DAG under Airflow 3.3's real scheduler, at tracker scale.

    python bench/airflow_bench.py [--single-hours 2] [--backfill-hours 168]
                                  [--backfill-max-active-runs 10] [--parallelism 32] [--out FILE]
                                  [--set AIRFLOW__X__Y=V ...] [--celery-workers N [--worker-concurrency 4]]

Loads (or reuses, by fingerprint) bench.py's ``tracker_30d`` data set (4,240 rides, 30 days) into
``themepark_bench_tracker_30d`` on the benchmark server, starts an AirflowStack
(devtools/themepark_devtools/airflow_stack.py: api-server, scheduler, dag-processor, triggerer,
LocalExecutor with Airflow's default parallelism 32, private PostgreSQL) whose AIRFLOW_CONN_THEMEPARK_DB is that database, unpauses the
DAG and measures:

1. one hour at a time: a REST trigger with a logical date on the hour (a real run through the
   scheduler and the LocalExecutor, as a scheduled one; only its creation differs: the scheduler
   creates scheduled runs of settled recent hours only, and the data is from 2025), for
   ``--single-hours`` hours just before the backfill's, one after the other;
2. a REST backfill (the UI's dialog) of ``--backfill-hours`` hours (default 168, a week) ending
   with the data set's last template day, with the backfill's default max_active_runs (10);

and reports, from the API's run and task-instance objects: each run's queued -> start -> end, each
task's scheduled -> queued -> start -> end and the gaps between tasks, the backfill's wall (its
creation to the last run's end), hours per minute, the CPU seconds per backfilled hour of each
part of the machine (scheduler, executor workers, task processes, api-server, dag-processor,
triggerer, PostgreSQL, MariaDB: AirflowStack.cpu_seconds), and the two aggregation tasks' database
time read from their task logs and measured again afterwards the way bench.py does.

The run the scheduler creates on unpausing (the latest settled hour of today: no data in this
database) is waited for before measuring and reported as the one real scheduled run.

With ``--celery-workers N`` the stack is docker-compose.yaml's CeleryExecutor deployment instead
(its x-airflow-common environment, a private Redis, N ``airflow celery worker`` processes; see
airflow_stack.py): docs/PERFORMANCE.md "CeleryExecutor".

Prints a table, writes bench/airflow_results.json. Every process started is stopped, also on
failure. The benchmark server is THEMEPARK_BENCH_SERVER, else the project's private MariaDB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (also puts plugins/ and devtools/ on sys.path)
from themepark_devtools.airflow_stack import AirflowStack  # noqa: E402
from themepark_hourly import aggregation  # noqa: E402
from themepark_hourly.hours import Hour  # noqa: E402

DATASET = "tracker_30d"
TASKS = ("migrate", "aggregate_rides", "aggregate_parks", "late_data", "log")
UPSTREAM = {
    "migrate": (),
    "aggregate_rides": ("migrate",),
    "late_data": ("migrate",),
    "aggregate_parks": ("aggregate_rides",),
    "log": ("aggregate_parks", "late_data"),
}
# The run's critical path: late_data (scheduled runs only; skipped, no process, elsewhere) runs
# beside aggregate_rides and aggregate_parks (which checks the hour).
CHAIN = ("migrate", "aggregate_rides", "aggregate_parks", "log")
AGGREGATION_TASKS = ("aggregate_rides", "aggregate_parks")
# bench.py's template day starts at WINDOW_START; tracker_30d holds it and the 29 days before it.
# The backfill ends with that day; the single hours come just before the backfill's first hour.
SECOND_DAY = bench.WINDOW_START


def mariadb_cpu_seconds(server: str, database: str) -> float | None:
    """CPU seconds the benchmark's MariaDB server has used, when it runs on this machine."""
    import psutil

    with bench.connected(server, database) as conn:
        cur = conn.cursor()
        cur.execute("SELECT @@pid_file")
        (pid_file,) = cur.fetchone()
    try:
        pid = int(Path(pid_file).read_text().split()[0])
        t = psutil.Process(pid).cpu_times()
    except (OSError, ValueError, IndexError, psutil.Error):
        return None  # a server elsewhere: its CPU is not this machine's
    return t.user + t.system + t.children_user + t.children_system


def cpu_by_process(before: dict[str, float], after: dict[str, float], hours: int) -> dict[str, Any]:
    """CPU seconds per hour aggregated, per part of the stack (and MariaDB), between two readings."""
    parts = {k: round((after.get(k, 0.0) - before.get(k, 0.0)) / hours, 3) for k in after}
    return {"cpu_seconds_per_hour": parts, "total_per_hour": round(sum(parts.values()), 3)}


def ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _key(value: str | None) -> str:
    """A logical date from the API as db_seconds_direct's key."""
    when = ts(value)
    return when.isoformat() if when else ""


def secs(a: datetime | None, b: datetime | None) -> float | None:
    return round((b - a).total_seconds(), 3) if a and b else None


def stats(values: list[float | None]) -> dict[str, float] | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {
        "n": len(vals),
        "median": round(statistics.median(vals), 3),
        "min": round(min(vals), 3),
        "max": round(max(vals), 3),
        "sum": round(sum(vals), 3),
    }


# ---------------------------------------------------------------------------- from the API


def log_db_seconds(stack: AirflowStack, run_id: str, task_id: str, try_number: int) -> float | None:
    """The time between the task's "hour ... (reason)" line and its "hour ...: read" line: the
    database connection and the aggregation (the tasks aggregate_rides and aggregate_parks log both)."""
    data = stack.poll(
        lambda: stack.get(
            f"/api/v2/dags/{stack.dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        ),
        timeout=60,
        what=f"the log of {run_id} {task_id}",
    )
    before = after = None
    for entry in data.get("content", []):
        if not isinstance(entry, dict):
            continue
        event = str(entry.get("event", ""))
        if not event.startswith(f"{task_id}: hour "):
            continue
        when = ts(entry.get("timestamp"))
        if ": read " in event:
            after = when
        elif before is None:
            before = when
    return secs(before, after)


def describe_run(stack: AirflowStack, run: dict, with_logs: bool = True) -> dict[str, Any]:
    """One run's timeline from the API: the run's queued/start/end, each task's
    scheduled/queued/start/end, and the gaps on the critical path."""
    queued, started, ended = (ts(run.get(k)) for k in ("queued_at", "start_date", "end_date"))
    # stack.poll retries: once, under load, the api-server answered this with a 500 "Database error".
    listed = stack.poll(lambda: stack.task_instances(run["dag_run_id"]), timeout=60, what="task instances")
    tis = {ti["task_id"]: ti for ti in listed}
    tasks: dict[str, dict[str, Any]] = {}

    def ready(task_id: str) -> datetime | None:
        ups = [ts(tis[u].get("end_date")) for u in UPSTREAM[task_id] if u in tis]
        if not UPSTREAM[task_id]:
            return started
        return max(ups) if ups and all(ups) else None  # type: ignore[type-var]

    for task_id in TASKS:
        ti = tis.get(task_id)
        if not ti:
            continue
        sched, q, s, e = (ts(ti.get(k)) for k in ("scheduled_when", "queued_when", "start_date", "end_date"))
        tasks[task_id] = {
            "state": ti["state"],
            "try_number": ti["try_number"],
            # Its upstream tasks ended (the run started, for migrate) -> the scheduler made it scheduled.
            "ready_to_scheduled": secs(ready(task_id), sched),
            "scheduled_to_queued": secs(sched, q),
            "queued_to_start": secs(q, s),
            "start_to_end": secs(s, e),
            "start": s.isoformat() if s else None,
            "end": e.isoformat() if e else None,
        }
        if with_logs and task_id in AGGREGATION_TASKS and ti["state"] == "success":
            tasks[task_id]["db_seconds_from_log"] = log_db_seconds(stack, run["dag_run_id"], task_id, ti["try_number"])
    # Critical path: the run's start -> first task start, each task's own time, task end -> the
    # next task's start (the scheduler noticing, queueing, the executor starting it), last end -> run end.
    chain = [tasks.get(t) for t in CHAIN]
    in_tasks = between = None
    if all(c and c["start"] and c["end"] for c in chain):
        starts = [ts(c["start"]) for c in chain]  # type: ignore[index]
        ends = [ts(c["end"]) for c in chain]  # type: ignore[index]
        in_tasks = round(sum(secs(s, e) or 0 for s, e in zip(starts, ends, strict=True)), 3)
        between = round(sum(secs(e, s) or 0 for e, s in zip(ends[:-1], starts[1:], strict=True)), 3)
        first_start, last_end = starts[0], ends[-1]
    else:
        first_start = last_end = None
    db_log = [tasks.get(t, {}).get("db_seconds_from_log") for t in AGGREGATION_TASKS]
    return {
        "run_id": run["dag_run_id"],
        "run_type": run["run_type"],
        "logical_date": run.get("logical_date"),
        "state": run["state"],
        "queued_at": run.get("queued_at"),
        "start_date": run.get("start_date"),
        "end_date": run.get("end_date"),
        "queued_to_end": secs(queued, ended),
        "queued_to_start": secs(queued, started),
        "start_to_end": secs(started, ended),
        "start_to_first_task": secs(started, first_start),
        "critical_path_in_tasks": in_tasks,
        "critical_path_between_tasks": between,
        "last_task_to_run_end": secs(last_end, ended),
        "db_seconds_from_log": round(sum(db_log), 3) if all(v is not None for v in db_log) else None,
        "tasks": tasks,
    }


# ---------------------------------------------------------------------------- bench.py's way


def db_seconds_direct(server: str, database: str, hours: list[datetime]) -> dict[str, float]:
    """Both aggregation functions per hour, on one connection, timed as bench.measure() times them
    (the caches are warm: Airflow has just aggregated these hours)."""
    out = {}
    with bench.connected(server, database) as conn:
        for start in hours:
            hour = Hour(start)
            t0 = time.perf_counter()
            aggregation.aggregate_rides(conn, hour, bench.INTERVAL_MINUTES)
            aggregation.aggregate_parks(conn, hour)
            out[start.isoformat()] = round(time.perf_counter() - t0, 4)
    return out


# ---------------------------------------------------------------------------- the benchmark


def run_benchmark(args: argparse.Namespace, server: str, database: str) -> dict[str, Any]:
    extra_env = {
        "THEMEPARK_SNAPSHOT_INTERVAL_MINUTES": str(bench.INTERVAL_MINUTES),
        # Airflow's defaults, where AirflowStack sets its own for the tests' sake (a DAG file's
        # change seen in seconds): a deployment re-parsing the DAG every 5 s would be measured.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "300",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "5",
    }
    for item in args.set:
        key, _, value = item.partition("=")
        extra_env[key] = value
    workers = tuple(f"worker-{k}" for k in range(1, args.celery_workers + 1))
    stack = AirflowStack(
        f"{server}/{database}", parallelism=args.parallelism, extra_env=extra_env, poll_interval=args.poll,
        celery_workers=workers, worker_concurrency=args.worker_concurrency,
    )  # fmt: skip
    result: dict[str, Any] = {"settings": {"parallelism": args.parallelism, **extra_env}}
    if workers:
        result["settings"].update(celery_workers=len(workers), worker_concurrency=args.worker_concurrency)
    try:
        stack.start()
        result["settings"]["stack_env"] = {k: v for k, v in stack.env.items() if k.startswith("AIRFLOW__") and
                                           not any(s in k for s in ("SECRET", "FERNET", "PASSWORD", "SQL_ALCHEMY"))}
        result["stack_startup_seconds"] = round(stack.timings["startup"], 1)
        print(f"stack healthy in {stack.timings['startup']:.1f} s (workdir {stack.workdir})", flush=True)
        stack.wait_for_dag()
        unpaused = time.monotonic()
        stack.unpause()
        # Unpausing creates the run of the latest settled hour of today (the timetable's first run);
        # wait for it so that it does not share the machine with what is measured.
        (scheduled,) = stack.wait_for_runs(1, run_type="scheduled", timeout=300)[-1:]
        result["first_scheduled_run"] = {
            **describe_run(stack, scheduled, with_logs=False),
            "unpause_to_end": round(time.monotonic() - unpaused, 1),
            "note": "the latest settled hour of today: no data in the benchmark database",
        }
        print(f"first scheduled run ({scheduled['logical_date']}, empty hour): queued->end "
              f"{result['first_scheduled_run']['queued_to_end']} s", flush=True)

        first = SECOND_DAY + timedelta(hours=24 - args.backfill_hours)
        last = SECOND_DAY + timedelta(hours=23)
        # 1. One hour at a time, through a REST trigger with a logical date.
        singles = []
        for k in range(args.single_hours):
            hour = first - timedelta(hours=args.single_hours - k)
            run = stack.trigger_run(hour, run_id=f"bench_single__{hour:%Y%m%dT%H}")
            done = stack.wait_for_run(run["dag_run_id"], timeout=600)
            singles.append(describe_run(stack, done))
            print(f"single hour {hour:%Y-%m-%d %H:%M}: {done['state']}, queued->end {singles[-1]['queued_to_end']} s",
                  flush=True)
        result["single_hours"] = singles

        # 2. The backfill of the hours up to the template day's last one.
        cpu_before = {**stack.cpu_seconds(), "mariadb": mariadb_cpu_seconds(server, database) or 0.0}
        posted_at = datetime.now(UTC)
        posted = time.monotonic()
        backfill = stack.create_backfill(first, last, max_active_runs=args.backfill_max_active_runs)
        runs = stack.wait_for_backfill_runs(backfill["id"], args.backfill_hours, timeout=3600)
        runs_done = time.monotonic() - posted
        cpu_after = {**stack.cpu_seconds(), "mariadb": mariadb_cpu_seconds(server, database) or 0.0}
        completed = stack.wait_for_backfill(backfill["id"], timeout=300)
        marked_done = time.monotonic() - posted
        described = [describe_run(stack, r) for r in sorted(runs, key=lambda r: r["logical_date"])]
        ends = [ts(r["end_date"]) for r in runs]
        created = ts(completed.get("created_at"))
        wall = secs(created, max(e for e in ends if e)) if created else None
        result["backfill"] = {
            "id": backfill["id"],
            "from": first.isoformat(),
            "to": last.isoformat(),
            "max_active_runs": args.backfill_max_active_runs,
            "posted_at": posted_at.isoformat(),
            "created_at": completed.get("created_at"),
            "completed_at": completed.get("completed_at"),
            "runs": len(runs),
            "states": sorted({r["state"] for r in runs}),
            "wall_created_to_last_run_end": wall,
            "wall_post_to_all_runs_seen_done": round(runs_done, 1),
            "wall_post_to_completed_seen": round(marked_done, 1),
            "last_run_end_to_completed_at": secs(max(e for e in ends if e), ts(completed.get("completed_at"))),
            "hours_per_minute": round(args.backfill_hours / wall * 60, 2) if wall else None,
            "cpu": cpu_by_process(cpu_before, cpu_after, args.backfill_hours),
            "cpu_wall_seconds": round(runs_done, 1),
            "run_list": described,
        }
        if workers:
            hosts: dict[str, int] = {}
            for run in runs:
                for ti in stack.task_instances(run["dag_run_id"]):
                    hosts[ti["hostname"]] = hosts.get(ti["hostname"], 0) + 1
            result["backfill"]["task_instances_per_worker"] = hosts
        others = stack.list_runs(run_type="scheduled")
        result["scheduled_runs_during_benchmark"] = [r["logical_date"] for r in others]
        result["memory_rss_mb"] = {k: v // 2**20 for k, v in stack.memory_rss().items()}
    finally:
        try:
            stack.stop()
        finally:
            if args.keep:
                print(f"Airflow stack kept in {stack.workdir}")
            else:
                stack.cleanup()
    return result


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    runs = result["backfill"]["run_list"]
    per_task = {}
    for task_id in TASKS:
        per_task[task_id] = {
            key: stats([r["tasks"].get(task_id, {}).get(key) for r in runs])
            for key in ("ready_to_scheduled", "scheduled_to_queued", "queued_to_start", "start_to_end")
        }
    return {
        "backfill_runs": {
            key: stats([r[key] for r in runs])
            for key in ("queued_to_end", "queued_to_start", "start_to_end", "start_to_first_task",
                        "critical_path_in_tasks", "critical_path_between_tasks", "last_task_to_run_end",
                        "db_seconds_from_log")
        },
        "backfill_tasks": per_task,
    }


def print_report(result: dict[str, Any]) -> None:
    def f(v: Any, width: int = 7) -> str:
        return f"{v:>{width}.2f}" if isinstance(v, (int, float)) else f"{'-':>{width}}"

    print(f"\n{'run':<34} {'queued':>7} {'q->end':>7} {'q->start':>8} {'start->end':>10} {'in tasks':>8} "
          f"{'between':>7} {'db(log)':>7} {'db(direct)':>10}")
    direct = result.get("db_seconds_direct", {})
    rows = [result["first_scheduled_run"], *result["single_hours"], *result["backfill"]["run_list"]]
    t0 = ts(rows[0]["queued_at"])
    for r in rows:
        queued = secs(t0, ts(r["queued_at"]))
        print(f"{r['run_id'][:34]:<34} {f(queued)} {f(r['queued_to_end'])} {f(r['queued_to_start'], 8)} "
              f"{f(r['start_to_end'], 10)} {f(r['critical_path_in_tasks'], 8)} {f(r['critical_path_between_tasks'])} "
              f"{f(r.get('db_seconds_from_log'))} {f(direct.get(_key(r['logical_date'])), 10)}")
    s = result["summary"]
    print("\nper task, seconds (backfill: median (min..max) over its runs)")
    keys = ("ready_to_scheduled", "scheduled_to_queued", "queued_to_start", "start_to_end")
    print(f"  {'task':<16} {'ready->scheduled':>22} {'scheduled->queued':>22} {'queued->start':>22} {'start->end':>22}")
    for label, per_task in (("backfill", s["backfill_tasks"]), *((f"single {r['logical_date']}", {
            t: {k: stats([v.get(k)]) for k in keys} for t, v in r["tasks"].items()}) for r in result["single_hours"])):
        print(f"  -- {label}")
        for task_id, parts in per_task.items():
            cells = []
            for key in keys:
                v = parts.get(key)
                if v and v["n"] > 1:
                    cells.append(f"{v['median']:.2f} ({v['min']:.2f}..{v['max']:.2f})")
                else:
                    cells.append(f"{v['median']:.2f}" if v else "-")
            print(f"  {task_id:<16} " + " ".join(f"{c:>22}" for c in cells))
    b = result["backfill"]
    print(f"\nbackfill of {b['runs']} hours, max_active_runs {b['max_active_runs']}: created -> last run end "
          f"{b['wall_created_to_last_run_end']} s = {b['hours_per_minute']} hours/minute; completed_at "
          f"{b['last_run_end_to_completed_at']} s after the last run ended; states {b['states']}")
    cpu = b["cpu"]
    print(f"CPU seconds per backfilled hour, by process ({cpu['total_per_hour']:.3f} in all; the machine has "
          f"{os.cpu_count()} CPUs, so at most {60 * (os.cpu_count() or 1) / cpu['total_per_hour']:.0f} hours a minute "
          f"at this cost):")
    for part, value in sorted(cpu["cpu_seconds_per_hour"].items(), key=lambda kv: -kv[1]):
        print(f"  {part:<34} {value:7.3f}")
    if "task_instances_per_worker" in b:
        print(f"task instances per Celery worker: {b['task_instances_per_worker']}")
    db_log = s["backfill_runs"]["db_seconds_from_log"]
    db_direct = list(direct[h] for h in direct if h >= b["from"])
    if db_log:
        print(f"database time of the backfill's two aggregation tasks: {db_log['sum']:.2f} s from the task logs "
              f"(median {db_log['median']:.3f} s an hour), {sum(db_direct):.2f} s measured again as bench.py does "
              f"(median {statistics.median(db_direct):.3f} s): {100 * db_log['sum'] / b['wall_created_to_last_run_end']:.1f}% "
              f"of the wall (runs overlap: this is a share of the sum, not of the critical path)")
    for single in result["single_hours"]:
        print(f"one hour ({single['logical_date']}) by REST trigger: queued -> end {single['queued_to_end']} s "
              f"(db {single.get('db_seconds_from_log')} s from the log)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single-hours", type=int, default=2)
    parser.add_argument("--backfill-max-active-runs", type=int, default=10)
    parser.add_argument("--backfill-hours", type=int, default=168,
                        help="hours backfilled, ending with the template day's last (at most 24 x 29)")
    # Airflow's default, which a LocalExecutor deployment on the README's settings runs with (the
    # test stacks use 8 to save memory): with 8 the tasks waited for a worker and the two cores
    # stayed a third idle (docs/PERFORMANCE.md).
    parser.add_argument("--parallelism", type=int, default=32, help="AIRFLOW__CORE__PARALLELISM")
    # Polling costs the api-server CPU that the measurement would count: the backfill's wall is
    # taken from the runs' own end dates, so a slow poll loses nothing.
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between REST polls")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the Airflow processes, e.g. AIRFLOW__SCHEDULER__...=...")
    parser.add_argument("--keep", action="store_true", help="keep the stack's temp directory (logs)")
    parser.add_argument("--celery-workers", type=int, default=0,
                        help="0: LocalExecutor; N: docker-compose.yaml's CeleryExecutor with N workers")
    parser.add_argument("--worker-concurrency", type=int, default=4, help="each Celery worker's task slots")
    parser.add_argument("--out", default=str(bench.REPO / "bench/airflow_results.json"))
    args = parser.parse_args(argv)
    # SIGTERM (timeout, Ctrl-C in make, a CI limit) unwinds like Ctrl-C, so that the stack's
    # processes are stopped rather than left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    server = bench.server_url()
    ds = bench.DATASETS[DATASET]
    database = "themepark_bench_" + ds.name
    marker = bench.load(server, database, ds)
    facts = bench.server_facts(server, database)
    load_before = os.getloadavg()
    t0 = time.monotonic()
    result = run_benchmark(args, server, database)
    hours = [ts(r["logical_date"]) for r in (*result["single_hours"], *result["backfill"]["run_list"])]
    result["db_seconds_direct"] = db_seconds_direct(server, database, [h for h in hours if h])
    result["summary"] = summarise(result)
    result.update(
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        total_seconds=round(time.monotonic() - t0, 1),
        dataset={"name": DATASET, "database": database, **marker},
        server=facts,
        machine={"cpus": os.cpu_count(), "platform": platform.platform(), "load_before": load_before,
                 "load_after": os.getloadavg()},
    )
    print_report(result)
    print(f"\nload average before {load_before[0]:.2f}, after {result['machine']['load_after'][0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print(f"written to {args.out}")
    failed = [r["run_id"] for r in (*result["single_hours"], *result["backfill"]["run_list"]) if r["state"] != "success"]
    if failed:
        print(f"runs not successful: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
