"""Real posted wait times (TouringPlans.com, Disney's Animal Kingdom, July 2018) through the
aggregation, checked against numbers counted straight from the CSV files and against the
row-by-row reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from support import touringplans
from support.aggregate_helpers import aggregate, assert_matches_reference


def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _from_csv(data, ride_id: int, hour: datetime) -> dict:
    """The ride row, counted from the CSV readings alone, for hours in which the ride has been seen
    operating before the hour ends (so every offline reading is downtime: the park is open while
    attractions report, and a DOWN at Disney is an operated signal)."""
    # The files repeat some readings at the same minute: they count once, the later row wins.
    latest = dict(data[ride_id])
    in_hour = [m for at, m in latest.items() if hour <= at < hour + timedelta(hours=1)]
    waits = [m for m in in_hour if m != -999]
    down = len(in_hour) - len(waits)
    return {
        "snapshot_count": len(in_hour),
        "down_snapshots": down,
        "operating_snapshots": len(waits),
        "downtime_hours": _q(min(Decimal(down * 10) / 60, Decimal(1)), "0.01"),
        "uptime_percentage": _q(Decimal(100 * len(waits)) / len(in_hour), "0.01"),
        "avg_wait_time_minutes": _q(Decimal(sum(waits)) / len(waits), "0.01") if waits else None,
    }


# 08:00 local on opening day (both headliners offline before their first ride of the day), the
# early afternoon, and 22:00 local with the whole day behind it.
HOURS = ["2018-07-01 12:00:00", "2018-07-01 18:00:00", "2018-07-02 02:00:00", "2018-07-05 21:00:00"]


@pytest.fixture
def animal_kingdom(migrated):
    return migrated, touringplans.load(migrated)


@pytest.mark.parametrize("hour", HOURS)
def test_hours_match_counts_from_the_csv_and_the_reference(animal_kingdom, hour):
    database, data = animal_kingdom
    aggregate(database, hour)
    rides, parks = assert_matches_reference(database, hour)
    start = datetime.fromisoformat(hour).replace(tzinfo=UTC)
    for ride_id in (85, 86):
        want = _from_csv(data, ride_id, start)
        got = {k: rides[ride_id][k] for k in want}
        assert got == want, f"ride {ride_id} at {hour}"
        assert rides[ride_id]["ride_operated"] == 1
    # The playground reports only some hours: a row exactly when the CSV has a reading in the hour.
    assert (17 in rides) == any(start <= at < start + timedelta(hours=1) for at, _ in data[17])
    if 17 in rides:
        assert rides[17]["down_snapshots"] == 0 and rides[17]["ride_operated"] == 0
    assert parks[1]["park_was_open"] == 1


def test_opening_hour_counts_the_breakdowns_before_first_ride(animal_kingdom):
    database, _ = animal_kingdom
    aggregate(database, HOURS[0])
    rides, parks = assert_matches_reference(database, HOURS[0])
    # Both headliners report offline four times from 08:17 local, then run: 4 x 10 min each.
    assert rides[85]["down_snapshots"] == rides[86]["down_snapshots"] == 4
    assert rides[85]["downtime_hours"] == Decimal("0.67")
    # Weighted over the rides that operated: Na'Vi (tier 2, weight 2) and Flight of Passage
    # (tier 1, weight 3): 10 x (0.67 x 2 + 0.67 x 3) / 5 = 6.7
    assert parks[1]["effective_park_weight"] == Decimal("5.00")
    assert parks[1]["shame_score"] == Decimal("6.7")


def test_the_boneyard_never_shows_downtime(animal_kingdom):
    database, data = animal_kingdom
    hours = sorted({at.replace(minute=0, second=0) for at, _ in data[17]})[:24]
    for start in hours:
        hour = start.strftime("%Y-%m-%d %H:%M:%S")
        aggregate(database, hour)
        rides, _ = assert_matches_reference(database, hour)
        assert rides[17]["ride_operated"] == 0 and rides[17]["downtime_hours"] == Decimal("0.00")
