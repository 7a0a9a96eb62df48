"""Which hour a task takes and when it waits for it (themepark_hourly/tasks/run_hour.py), without a server."""

from __future__ import annotations

import pendulum
import pytest


def test_a_run_the_timetable_was_not_asked_about_waits_for_its_hour_to_settle(monkeypatch):
    # `airflow dags trigger -l <hour under way>` (Airflow asks the timetable about the time of the
    # call, not the logical date) or a REST trigger with its own interval: the run exists and holds
    # the hour's logical date, so its tasks wait for the hour to settle instead of failing it. An
    # hour settling more than two hours ahead (a mistyped date) is refused.
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowRescheduleException

    from themepark_hourly.hours import HourNotSettled
    from themepark_hourly.tasks import failures, run_hour

    now = pendulum.datetime(2025, 12, 8, 14, 20, tz="UTC")
    monkeypatch.setattr(run_hour, "now", lambda: now)
    pushed: list[tuple] = []
    ti = SimpleNamespace(xcom_push=lambda **kw: pushed.append(kw))

    def context(logical):
        return {"logical_date": logical, "dag_run": SimpleNamespace(run_after=now), "ti": ti, "params": {}}

    # The wrapper of every task lets the wait through, untouched and recorded as no error.
    wrapped = failures.reports_errors("aggregate_rides")(run_hour.settled_hour)
    with pytest.raises(AirflowRescheduleException) as waits:
        wrapped(context(pendulum.datetime(2025, 12, 8, 14, tz="UTC")))
    assert waits.value.reschedule_date == pendulum.datetime(2025, 12, 8, 15, 5, tz="UTC")
    assert pushed == []
    with pytest.raises(AirflowRescheduleException):  # settles at 16:05, 1 h 45 min ahead: waits
        wrapped(context(pendulum.datetime(2025, 12, 8, 15, tz="UTC")))
    with pytest.raises(Exception, match=r"HourNotSettled: hour 2025-12-08 16:00-17:00 UTC has not settled") as refused:
        wrapped(context(pendulum.datetime(2025, 12, 8, 16, tz="UTC")))  # 2 h 45 min ahead: refused
    assert isinstance(refused.value.__cause__, HourNotSettled)
    assert "has not settled" in pushed[-1]["value"]
    settled = pendulum.datetime(2025, 12, 8, 13, tz="UTC")  # settled at 14:05
    assert run_hour.settled_hour(context(settled)).hour.start == settled
    # The bound: the hour after the one under way, settling 2 h + the settle delay ahead, waits.
    now = pendulum.datetime(2025, 12, 8, 15, tz="UTC")
    with pytest.raises(AirflowRescheduleException):
        wrapped(context(pendulum.datetime(2025, 12, 8, 16, tz="UTC")))  # settles 17:05 = now + 2 h 5 min
    now = now.subtract(seconds=1)
    with pytest.raises(Exception, match="HourNotSettled"):
        wrapped(context(pendulum.datetime(2025, 12, 8, 16, tz="UTC")))
