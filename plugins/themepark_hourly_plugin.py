"""Airflow plugin of themepark-hourly: registers the DAG's timetable with every Airflow process.

Airflow serialises a DAG's timetable by class path and refuses to deserialise one that no plugin
registered (TimetableNotRegistered), so the scheduler, dag-processor, api-server and CLI all need
this. The package itself is kept out of the plugin loader by ``.airflowignore``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from themepark_hourly.timetable import SettledHourlyTimetable


class ThemeparkHourlyPlugin(AirflowPlugin):
    name = "themepark_hourly"
    timetables = [SettledHourlyTimetable]
