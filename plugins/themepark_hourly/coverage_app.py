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

from themepark_hourly import config, coverage, db

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
    try:
        with db.connection() as conn:
            return work(conn)
    except coverage.BadParameter:
        raise
    except Exception as exc:
        log.exception("coverage view: reading the tracker database failed")
        raise HTTPException(
            503, f"tracker database (connection {config.conn_id()!r}) could not be read: {type(exc).__name__}: {exc}"
        ) from exc


def _airflow_runs(session: Any, first_hour: datetime, end_hour: datetime) -> dict[datetime, list[coverage.AirflowRun]]:
    """The DAG's runs whose data interval starts in the range, newest first per hour: one query."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    query = (
        select(DagRun.run_id, DagRun.state, DagRun.run_type, DagRun.data_interval_start)
        .where(
            DagRun.dag_id == config.DAG_ID,
            DagRun.data_interval_start >= first_hour.replace(tzinfo=UTC),
            DagRun.data_interval_start < end_hour.replace(tzinfo=UTC),
        )
        .order_by(DagRun.data_interval_start, DagRun.id.desc())
    )
    runs: dict[datetime, list[coverage.AirflowRun]] = {}
    for run_id, state, run_type, start in session.execute(query):
        hour = start.astimezone(UTC).replace(tzinfo=None)
        runs.setdefault(hour, []).append(coverage.AirflowRun(run_id, str(state), str(run_type)))
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
    }
    if dag_id != config.DAG_ID:
        return _page(404, error=f"The hourly coverage view is for DAG {config.DAG_ID}.", grid=None, parks=[], **common)
    try:
        req = coverage.parse_request(start, end, park, tz, datetime.now(UTC).date())
    except coverage.BadParameter as exc:
        return _page(400, error=str(exc), grid=None, parks=[], **common)

    def read(conn: Any) -> tuple[list[coverage.Park], coverage.Grid]:
        return coverage.parks(conn), coverage.build_grid(conn, req, functools.partial(_airflow_runs, session))

    try:
        parks, grid = _tracker(read)
    except coverage.BadParameter as exc:
        return _page(400, error=str(exc), grid=None, parks=[], **common)
    except HTTPException as exc:
        return _page(exc.status_code, error=exc.detail, grid=None, parks=[], **common)
    common["form"].update(start=req.start.isoformat(), end=req.end.isoformat())
    return _page(200, error=None, grid=grid, parks=parks, run_url=_run_url(base), **common)


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
        req = coverage.parse_request(start, end, park, tz, datetime.now(UTC).date())

        grid = _tracker(lambda conn: coverage.build_grid(conn, req, functools.partial(_airflow_runs, session)))
    except coverage.BadParameter as exc:
        raise _bad(exc) from None
    return JSONResponse(grid.as_dict(), headers={"Cache-Control": "no-store"})


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
