"""The coverage view's web app, mounted on Airflow's api-server by the project's plugin.

Airflow authenticates none of a plugin app's routes, so every route here depends on the
api-server's own check: the caller's token (bearer header, or the cookie the UI sets at sign-in)
and read access to the DAG through the configured auth manager. Backfills are not created here:
the page calls Airflow's REST API itself, as the signed-in user (docs/COVERAGE.md).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from themepark_hourly import config, coverage, db, db_errors

log = logging.getLogger(__name__)

PAGE_PATH = "/dags/{dag_id}/coverage"
ASSETS = Path(__file__).with_name("coverage_assets")

app = FastAPI(title="themepark-hourly coverage", docs_url=None, redoc_url=None, openapi_url=None)

# Read access to the DAG named in the path, decided by Airflow's auth manager: 401 without a
# valid token, 403 without access.
can_read_dag = [Depends(requires_access_dag("GET"))]


def _own_dag(dag_id: str) -> None:
    if dag_id != config.DAG_ID:
        raise HTTPException(404, f"dag_id: the coverage view is for {config.DAG_ID}, not {dag_id!r}")


def _bad(exc: coverage.BadParameter) -> HTTPException:
    return HTTPException(400, str(exc))


def _tracker(work: Callable[[Any], Any]) -> Any:
    """Run ``work`` on a tracker connection; a database that cannot be reached is a 503, said so."""
    from airflow.exceptions import AirflowNotFoundException

    try:
        with db.connection() as conn:
            return work(conn)
    except coverage.BadParameter:
        raise
    except (AirflowNotFoundException, OSError) as exc:
        log.exception("coverage view: no tracker connection")
        raise HTTPException(503, f"tracker database (connection {config.conn_id()!r}): {type(exc).__name__}") from exc
    except Exception as exc:
        if db_errors.error_code(exc) is None:
            raise
        # The server's message names hosts and users: it goes to the api-server's log only.
        log.exception("coverage view: reading the tracker database failed")
        raise HTTPException(
            503,
            f"tracker database (connection {config.conn_id()!r}) could not be read: error {db_errors.error_code(exc)}",
        ) from exc


def _airflow_runs(session: Any, first_hour: datetime, end_hour: datetime) -> dict[datetime, list[coverage.AirflowRun]]:
    """The DAG's runs of the range's hours, newest first per hour: one query.

    A run's hour is its logical date on the hour, whoever made it (docs/OPERATIONS.md, "Which hour a
    run aggregates"): looked up by Airflow's own unique key (dag_id, logical_date). A run without a
    logical date aggregated the hour its data interval starts with.
    """
    from airflow.models.dagrun import DagRun
    from sqlalchemy import and_, or_, select

    first, end = first_hour.replace(tzinfo=UTC), end_hour.replace(tzinfo=UTC)
    query = (
        select(DagRun.run_id, DagRun.state, DagRun.run_type, DagRun.logical_date, DagRun.data_interval_start)
        .where(
            DagRun.dag_id == config.DAG_ID,
            or_(
                and_(DagRun.logical_date >= first, DagRun.logical_date < end),
                and_(
                    DagRun.logical_date.is_(None),
                    DagRun.data_interval_start >= first,
                    DagRun.data_interval_start < end,
                ),
            ),
        )
        .order_by(DagRun.id.desc())
    )
    runs: dict[datetime, list[coverage.AirflowRun]] = {}
    for run_id, state, run_type, logical_date, interval_start in session.execute(query):
        when = logical_date if logical_date is not None else interval_start
        if when is None:
            continue
        when = when.astimezone(UTC).replace(tzinfo=None)
        if when.minute or when.second or when.microsecond:
            # Off the hour: such a run aggregated the last settled hour, its interval's.
            if interval_start is None:
                continue
            when = interval_start.astimezone(UTC).replace(tzinfo=None)
        runs.setdefault(when, []).append(coverage.AirflowRun(run_id, str(state), str(run_type)))
    return runs


def _airflow_base(request: Request) -> str:
    """Airflow's own URL prefix ('' at the root), from where the api-server mounted this app."""
    root = request.scope.get("root_path", "")
    return root[: -len(config.COVERAGE_URL_PREFIX)] if root.endswith(config.COVERAGE_URL_PREFIX) else ""


@functools.cache
def _templates() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(ASSETS), autoescape=True, undefined=jinja2.StrictUndefined)


def _page(status: int, **values: Any) -> HTMLResponse:
    html = _templates().get_template("coverage.html").render(**values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@app.get(PAGE_PATH, dependencies=can_read_dag, response_class=HTMLResponse)
def coverage_page(
    request: Request,
    dag_id: str,
    session: SessionDep,
    start: str | None = None,
    end: str | None = None,
    park: str | None = None,
    tz: str | None = None,
) -> HTMLResponse:
    base = _airflow_base(request)
    common = {
        "dag_id": config.DAG_ID,
        "airflow_base": base,
        "states": coverage.STATES,
        "state_by_key": {s.key: s for s in coverage.STATES},
        "needs_backfill": coverage.NEEDS_BACKFILL,
        "max_days": coverage.MAX_DAYS,
        "form": {"start": start or "", "end": end or "", "park": park or "", "tz": tz or "utc"},
        "note": None,
    }
    if dag_id != config.DAG_ID:
        return _page(404, error=f"The hourly coverage view is for DAG {config.DAG_ID}.", grid=None, parks=[], **common)

    def read(conn: Any) -> tuple[list[coverage.Park], coverage.Grid, str | None]:
        grid, note = _grid_of(conn, session, start, end, park, tz)  # checks the parameters first
        return coverage.parks(conn), grid, note

    try:
        parks, grid, note = _tracker(read)
    except coverage.BadParameter as exc:
        return _page(400, error=str(exc), grid=None, parks=[], **common)
    except HTTPException as exc:
        return _page(exc.status_code, error=exc.detail, grid=None, parks=[], **common)
    common["form"].update(start=grid.request.start.isoformat(), end=grid.request.end.isoformat())
    common["note"] = note
    return _page(200, error=None, grid=grid, parks=parks, run_url=_run_url(base), **common)


def _grid_of(
    conn: Any, session: Any, start: str | None, end: str | None, park: str | None, tz: str | None
) -> tuple[coverage.Grid, str | None]:
    """The grid asked for, and a note when the default range was moved to where the data is."""
    today = datetime.now(UTC).date()
    request = coverage.parse_request(start, end, park, tz, today)
    if request.park_time and not end:
        # "Today" is the park's: ahead of UTC its day has begun, behind it has not ended.
        import pendulum

        today = pendulum.now(coverage.park(conn, request.park_id).timezone).date()
        request = coverage.parse_request(start, end, park, tz, today)
    note = None
    if not start and not end:
        # A tracker that stopped collecting (a demo, an old copy) would show only empty days.
        newest = coverage.newest_snapshot_day(conn)
        if newest is not None and newest < today:
            request = coverage.parse_request(None, None, park, tz, newest)
            note = f"No snapshot since {newest}: showing the {coverage.DEFAULT_DAYS} days up to it."
    return coverage.build_grid(conn, request, functools.partial(_airflow_runs, session)), note


def _run_url(base: str) -> Callable[[str | None], str | None]:
    def url(run_id: str | None) -> str | None:
        return None if not run_id else f"{base}/dags/{quote(config.DAG_ID)}/runs/{quote(run_id, safe='')}"

    return url


@app.get(PAGE_PATH + "/grid.json", dependencies=can_read_dag)
def coverage_grid(
    dag_id: str,
    session: SessionDep,
    start: str | None = None,
    end: str | None = None,
    park: str | None = None,
    tz: str | None = None,
) -> JSONResponse:
    _own_dag(dag_id)
    try:
        grid, note = _tracker(lambda conn: _grid_of(conn, session, start, end, park, tz))
    except coverage.BadParameter as exc:
        raise _bad(exc) from None
    return JSONResponse({**grid.as_dict(), "note": note}, headers={"Cache-Control": "no-store"})


@app.get(PAGE_PATH + "/cell", dependencies=can_read_dag)
def coverage_cell(
    request: Request, dag_id: str, session: SessionDep, hour: str | None = None, park: str | None = None
) -> JSONResponse:
    _own_dag(dag_id)
    try:
        at = coverage.parse_hour(hour)
        park_id = coverage.parse_request(None, None, park, None, datetime.now(UTC).date()).park_id
        details = _tracker(lambda conn: coverage.cell_details(conn, at, park_id))
    except coverage.BadParameter as exc:
        raise _bad(exc) from None
    url = _run_url(_airflow_base(request))
    runs = _airflow_runs(session, at, at + coverage.HOUR).get(at, [])
    details["airflow_runs"] = [{**vars(r), "url": url(r.run_id)} for r in runs]
    for row in details["log"]:
        row["url"] = url(row["airflow_run_id"])
    return JSONResponse(details, headers={"Cache-Control": "no-store"})


@app.get(PAGE_PATH + "/coverage.js", dependencies=can_read_dag)
def coverage_script(dag_id: str) -> Response:
    _own_dag(dag_id)
    return Response((ASSETS / "coverage.js").read_bytes(), media_type="text/javascript")
