"""Airflow plugin of themepark-hourly: the DAG's timetable, and the coverage view in Airflow's UI.

Airflow serialises a DAG's timetable by class path and refuses to deserialise one that no plugin
registered (TimetableNotRegistered), so the scheduler, dag-processor, api-server and CLI all need
this. The package itself is kept out of the plugin loader by ``.airflowignore``.

Loading it also preloads what the tasks import and parse (themepark_hourly/preload.py), so that
task processes forked from a process that loaded it start warm.

The coverage view (docs/COVERAGE.md) is a FastAPI app the api-server mounts, shown as a tab of the
DAG's page and an entry of the Browse menu. Every process loads this plugin, and only the
api-server serves the app: it is imported on its first request (FastAPI and the api-server's
security would add most of a second to every other process's start).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from themepark_hourly import config, preload
from themepark_hourly.timetable import SettledHourlyTimetable

preload.warm()


class _CoverageApp:
    """An ASGI app that imports the coverage view's FastAPI app when it is first called."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from themepark_hourly.coverage_app import app

        await app(scope, receive, send)


class ThemeparkHourlyPlugin(AirflowPlugin):
    name = "themepark_hourly"
    timetables = [SettledHourlyTimetable]
    fastapi_apps = [
        {"app": _CoverageApp(), "url_prefix": config.COVERAGE_URL_PREFIX, "name": "themepark-hourly coverage"}
    ]
    external_views = [
        {
            # Airflow shows a "dag" view on every DAG's page; the app answers other DAGs with a pointer.
            "name": "Hourly coverage",
            "href": config.COVERAGE_URL_PREFIX.lstrip("/") + "/dags/{DAG_ID}/coverage",
            "destination": "dag",
            "url_route": "themepark-hourly-coverage",
        },
        {
            "name": "Hourly coverage",
            "href": config.COVERAGE_URL_PREFIX.lstrip("/") + f"/dags/{config.DAG_ID}/coverage",
            "destination": "nav",
            "category": "browse",
            "url_route": "themepark-hourly-coverage-nav",
        },
    ]
