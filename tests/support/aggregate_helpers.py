"""Running the package's aggregation for one hour against a test database, and reading it back."""

from __future__ import annotations

from support import reference
from themepark_hourly import aggregation, db
from themepark_hourly.hours import Hour


def aggregate(database, hour: str, interval_minutes: int = 10):
    """Run aggregate_rides then aggregate_parks for ``hour`` through the Airflow connection."""
    h = Hour.parse(hour)
    with db.connection() as conn:
        rides = aggregation.aggregate_rides(conn, h, interval_minutes)
        parks = aggregation.aggregate_parks(conn, h)
    return rides, parks


def stored(database, hour: str):
    return reference.stored(database, Hour.parse(hour).start)


def expected(database, hour: str, interval_minutes: int = 10):
    parks, rides, rs, ps = reference.load(database)
    return reference.hourly(parks, rides, rs, ps, Hour.parse(hour).start, interval_minutes)


def assert_matches_reference(database, hour: str, interval_minutes: int = 10):
    got = stored(database, hour)
    want = expected(database, hour, interval_minutes)
    for kind, mine, theirs in (("ride", got[0], want[0]), ("park", got[1], want[1])):
        diff = {
            key: {"stored": mine.get(key), "reference": theirs.get(key)}
            for key in set(mine) | set(theirs)
            if mine.get(key) != theirs.get(key)
        }
        assert not diff, f"{kind} rows for {hour} differ from the reference: {diff}"
    return got
