"""The DAG's timetable as Airflow's scheduler, backfills and manual runs call it.

The same behaviour through Airflow's real scheduler and REST API is in tests/e2e/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction

from themepark_hourly import timetable as timetable_module
from themepark_hourly.timetable import SettledHourlyTimetable

SETTLE = timedelta(minutes=5)
DAG_START = pendulum.datetime(2000, 1, 1, tz="UTC")
SCHEDULER = TimeRestriction(earliest=DAG_START, latest=None, catchup=True)


def at(h: int, m: int = 0, day: int = 8) -> pendulum.DateTime:
    return pendulum.datetime(2025, 12, day, h, m, tz="UTC")


@pytest.fixture
def now(monkeypatch):
    clock = {"now": at(15, 3)}
    monkeypatch.setattr(timetable_module, "_now", lambda: clock["now"])
    return clock


def hour(info) -> tuple[datetime, datetime, datetime]:
    return (info.data_interval.start, info.data_interval.end, info.run_after)


def test_fresh_deployment_starts_at_the_latest_settled_hour_not_the_start_date(now):
    tt = SettledHourlyTimetable(SETTLE)
    # 15:03: the 14:00 hour settles at 15:05, so the latest settled one is 13:00, due at once.
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=SCHEDULER)
    assert hour(info) == (at(13), at(14), at(14, 5))
    assert info.logical_date == at(13)


def test_a_start_hour_is_caught_up_from(now):
    tt = SettledHourlyTimetable(SETTLE, first_hour=datetime(2025, 12, 8, 9, 30, tzinfo=UTC))
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=SCHEDULER)
    assert hour(info) == (at(10), at(11), at(11, 5))  # rounded up to the hour


def test_after_a_run_the_next_hour_waits_for_its_data_to_settle(now):
    tt = SettledHourlyTimetable(SETTLE)
    info = tt.next_dagrun_info(last_automated_data_interval=DataInterval(at(13), at(14)), restriction=SCHEDULER)
    assert hour(info) == (at(14), at(15), at(15, 5))  # created at 15:05, not at 15:00


def test_hours_missed_while_the_scheduler_was_down_all_run(now, monkeypatch):
    monkeypatch.setattr(SettledHourlyTimetable, "_scheduler_has_run", lambda self: True)
    now["now"] = at(18, 30)
    tt = SettledHourlyTimetable(SETTLE, dag_id="d")
    info = tt.next_dagrun_info(last_automated_data_interval=DataInterval(at(13), at(14)), restriction=SCHEDULER)
    assert hour(info) == (at(14), at(15), at(15, 5))  # not skipped to 17:00


def test_a_backfill_before_the_first_scheduled_run_does_not_start_a_flood(now, monkeypatch):
    monkeypatch.setattr(SettledHourlyTimetable, "_scheduler_has_run", lambda self: False)
    tt = SettledHourlyTimetable(SETTLE, dag_id="d")
    old = DataInterval(at(14, day=1), at(15, day=1))  # the latest run is a backfill of a week ago
    info = tt.next_dagrun_info(last_automated_data_interval=old, restriction=SCHEDULER)
    assert hour(info) == (at(13), at(14), at(14, 5))


def test_backfill_gets_every_settled_hour_of_its_range_however_old(now):
    tt = SettledHourlyTimetable(SETTLE)
    restriction = TimeRestriction(
        earliest=pendulum.datetime(2015, 3, 1, 10, tz="UTC"),
        latest=pendulum.datetime(2015, 3, 1, 12, tz="UTC"),
        catchup=True,
    )
    infos, last = [], None
    while (info := tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)) is not None:
        infos.append(info)
        last = info.data_interval
    assert [i.data_interval.start for i in infos] == [pendulum.datetime(2015, 3, 1, h, tz="UTC") for h in (10, 11, 12)]
    # Due at once, and named by Airflow after the hour's end whatever the settle delay: with
    # run_after = end + settle, hour 10 under a 65 min delay and hour 11 under 5 min shared an id.
    assert [i.run_after for i in infos] == [i.data_interval.end for i in infos]
    other = SettledHourlyTimetable(timedelta(minutes=65)).next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    )
    assert other.run_after == infos[0].run_after


def test_backfill_never_creates_an_hour_that_has_not_settled(now):
    tt = SettledHourlyTimetable(SETTLE)
    restriction = TimeRestriction(earliest=at(13), latest=at(15), catchup=True)
    first = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert first.data_interval.start == at(13)
    # 14:00-15:00 settles at 15:05; it is 15:03.
    assert tt.next_dagrun_info(last_automated_data_interval=first.data_interval, restriction=restriction) is None


def test_scheduled_runs_are_named_after_their_hour_whatever_the_settle_delay():
    from airflow.utils.types import DagRunType

    hour_13 = DataInterval(at(13), at(14))
    hour_9 = DataInterval(at(9), at(10))
    # 13:00 with a 5 min delay and 9:00 with a 4 h 5 min delay are both due at 14:05.
    ids = {
        SettledHourlyTimetable(SETTLE).generate_run_id(
            run_type=DagRunType.SCHEDULED, run_after=at(14, 5), data_interval=hour_13
        ),
        SettledHourlyTimetable(timedelta(hours=4, minutes=5)).generate_run_id(
            run_type=DagRunType.SCHEDULED, run_after=at(14, 5), data_interval=hour_9
        ),
    }
    assert ids == {"scheduled__2025-12-08T13:00:00+00:00", "scheduled__2025-12-08T09:00:00+00:00"}
    manual = SettledHourlyTimetable(SETTLE).generate_run_id(
        run_type=DagRunType.MANUAL, run_after=at(14, 5), data_interval=hour_13
    )
    assert manual == "manual__2025-12-08T14:05:00+00:00"


def test_manual_runs_get_the_hour_of_their_logical_date(now):
    now["now"] = at(16)
    tt = SettledHourlyTimetable(SETTLE)
    assert tuple(tt.infer_manual_data_interval(run_after=at(14))) == (at(14), at(15))
    assert tuple(tt.infer_manual_data_interval(run_after=at(15, 20))) == (at(14), at(15))
    assert tuple(tt.infer_manual_data_interval(run_after=at(15, 3))) == (at(13), at(14))


def test_a_manual_run_of_an_hour_that_has_not_settled_is_refused_before_it_exists(now):
    # 15:03: the 14:00 hour settles at 15:05. Airflow asks the timetable before creating a manual
    # run; a ValueError there is the REST API's 400 and `airflow dags test`'s error.
    tt = SettledHourlyTimetable(SETTLE)
    settles = {at(14): "15:05", at(15): "16:05", at(16, 30): "16:05"}  # just ended, under way, future
    for logical, when in settles.items():
        with pytest.raises(ValueError, match=r"has not settled yet.*No run was created") as refused:
            tt.infer_manual_data_interval(run_after=logical)
        assert type(refused.value).__name__ == "HourNotSettled"
        assert f"until 2025-12-08 {when}:00 UTC" in str(refused.value)
    now["now"] = at(15, 5)  # settled to the second
    assert tuple(tt.infer_manual_data_interval(run_after=at(14))) == (at(14), at(15))


def test_a_run_holding_an_hour_is_taken_for_that_hour_when_the_scheduler_reaches_it(now):
    # `airflow dags trigger -l 14:00` stores the interval Airflow inferred from the time of the
    # call: 13:00-14:00 when called at 14:20 (going on from it would stop the scheduler at 14:00
    # for good), 16:00-17:00 at 17:20 (going on from it would skip 15:00 and 16:00). When the
    # scheduler reaches 14:00 it finds that run and goes on from the hour its logical date
    # names: to 15:00.
    from types import SimpleNamespace

    tt = SettledHourlyTimetable(SETTLE)
    now["now"] = at(18, 10)
    for stored, called in (((at(13), at(14)), at(14, 20)), ((at(16), at(17)), at(17, 20))):
        cli_run = SimpleNamespace(
            logical_date=at(14), run_after=called, data_interval_start=stored[0], data_interval_end=stored[1],
            partition_key=None, partition_date=None,
        )
        info = tt.run_info_from_dag_run(dag_run=cli_run)
        assert tuple(info.data_interval) == (at(14), at(15))
        nxt = tt.next_dagrun_info(last_automated_data_interval=info.data_interval, restriction=SCHEDULER)
        assert hour(nxt)[:2] == (at(15), at(16))


def test_serialisation_round_trip_keeps_every_argument():
    tt = SettledHourlyTimetable(timedelta(minutes=7), datetime(2025, 1, 2, 3, tzinfo=UTC), dag_id="x")
    again = SettledHourlyTimetable.deserialize(tt.serialize())
    assert again == tt
    assert (again.settle, again.first_hour, again.dag_id) == (
        timedelta(minutes=7),
        datetime(2025, 1, 2, 3, tzinfo=UTC),
        "x",
    )
    assert "7 min" in again.summary


def test_the_dag_uses_it_and_airflow_serialises_it_through_the_plugin(dag):
    from airflow.serialization.serialized_objects import DagSerialization

    assert isinstance(dag.timetable, SettledHourlyTimetable)
    assert dag.timetable.settle == timedelta(minutes=5) and dag.timetable.first_hour is None
    assert dag.start_date == datetime(2000, 1, 1, tzinfo=UTC)
    restored = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    assert type(restored.timetable).__name__ == "SettledHourlyTimetable"
    assert restored.timetable == dag.timetable


def test_the_plugin_loader_imports_the_plugin_file_only_not_the_package():
    from airflow import plugins_manager
    from airflow._shared.module_loading import find_path_from_directory

    from support import REPO

    # The files Airflow's plugin loader would import as top-level modules in every process.
    python_files = sorted(
        p for p in find_path_from_directory(str(REPO / "plugins"), ".airflowignore", "glob") if p.endswith(".py")
    )
    assert python_files == [str(REPO / "plugins" / "themepark_hourly_plugin.py")]
    plugins, import_errors = plugins_manager._get_plugins()
    assert import_errors == {}
    [ours] = [p for p in plugins if p.name == "themepark_hourly"]
    assert ours.timetables == [SettledHourlyTimetable]
