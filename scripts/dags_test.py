"""`make dags-test HOUR=...`: one hour through `airflow dags test`, ending with the hour's result.

Airflow's own log (some 150 lines a run) goes to $AIRFLOW_HOME/dags-test.log; VERBOSE=1 shows it
as it comes instead. Run in the environment of scripts/env.sh (make sources it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

DAG_ID = "themepark_hourly_aggregation"


def find_run(logical_date: str, finished_after: datetime) -> tuple[str, str, datetime, datetime] | None:
    """The run `airflow dags test` just made for that logical date: (run id, state, hour start, end).

    A run that ended before the command started is an earlier one (the command refused the hour
    before replacing it), not this command's.
    """
    from airflow.models.dagrun import DagRun
    from airflow.sdk import timezone  # the CLI's own parser for the date
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.logical_date == timezone.parse(logical_date))
        )
        if run is None or run.end_date is None or run.end_date < finished_after:
            return None
        return run.run_id, str(run.state), run.data_interval_start, run.data_interval_end


def main() -> int:
    from themepark_devtools.run_result import describe, log_rows, verbose

    if len(sys.argv) != 2:
        print("usage: dags_test.py HOUR (e.g. 2025-07-04T20:00:00+00:00: the hour starting then)", file=sys.stderr)
        return 2
    hour = sys.argv[1]
    airflow = str(Path(sys.executable).parent / "airflow")
    command = [airflow, "dags", "test", DAG_ID, hour]
    log_path = Path(os.environ["AIRFLOW_HOME"]) / "dags-test.log"
    started = datetime.now(UTC)
    if verbose():
        code = subprocess.run(command, check=False).returncode
        where = "above"
    else:
        with open(log_path, "w") as log:
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
        where = f"in {log_path} (VERBOSE=1 shows it)"

    run = find_run(hour, started)
    if run is None:
        if not verbose():
            # The command's last line is its error (e.g. an hour that has not settled yet).
            lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
            print(lines[-1] if lines else "(no output)")
        print(f"airflow dags test {DAG_ID} {hour}: exit {code}, no run made; Airflow's log {where}")
        return code or 1
    run_id, state, start, end = run

    from themepark_hourly import db

    with db.connection() as conn:
        row = log_rows(conn, [run_id]).get(run_id)
    print(describe(start, end, state, row))
    print(f"  run {run_id}; Airflow's log {where}")
    return code


if __name__ == "__main__":
    sys.exit(main())
