"""Airflow plugin of themepark-hourly: registers the DAG's timetable with every Airflow process.

Airflow serialises a DAG's timetable by class path and refuses to deserialise one that no plugin
registered (TimetableNotRegistered), so the scheduler, dag-processor, api-server and CLI all need
this. The package itself is kept out of the plugin loader by ``.airflowignore``.

Loading it also preloads what the tasks import and parse (themepark_hourly/preload.py), so that
task processes forked from a process that loaded it start warm.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from themepark_hourly import preload
from themepark_hourly.timetable import SettledHourlyTimetable

preload.warm()


class ThemeparkHourlyPlugin(AirflowPlugin):
    name = "themepark_hourly"
    timetables = [SettledHourlyTimetable]
