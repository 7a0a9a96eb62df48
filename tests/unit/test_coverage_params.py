"""The coverage view's parameters (plugins/themepark_hourly/coverage.py): refused by name, before any query."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from themepark_hourly import coverage

DAY = date(2025, 7, 4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2025-13-01", "2025-12-02", None, None), r"^start: '2025-13-01' is not a date \(YYYY-MM-DD\)$"),
        (("2025-07-04", "4 July", None, None), r"^end: '4 July' is not a date"),
        (("2025-07-05", "2025-07-04", None, None), r"^start: 2025-07-05 is after end 2025-07-04$"),
        (("2024-01-01", "2025-01-01", None, None), r"^end: the range 2024-01-01..2025-01-01 has 367 days; at most 366$"),
        (("2025-07-04", "2025-07-04", "1 OR 1=1", None), r"^park: '1 OR 1=1' is not a park id$"),
        (("2025-07-04", "2025-07-04", "-3", None), r"^park: '-3' is not a park id$"),
        (("2025-07-04", "2025-07-04", "²", None), r"^park: '²' is not a park id$"),
        (("2025-07-04", "2025-07-04", "99999999999", None), r"^park: '99999999999' is not a park id$"),
        (("0001-01-01", "0001-01-05", None, None), r"^end: 0001-01-05 is outside 1970-01-02..2099-12-31$"),
        ((None, "1970-01-05", None, None), r"^start: 1969-12-23 is before 1970-01-02$"),
        (("9999-12-31", None, None, None), r"^start: 9999-12-31 is outside"),
        (("２０２５-07-04", None, None, None), r"^start: '２０２５-07-04' is not a date"),
        (("2025-07-04", "2025-07-04", None, "park"), r"^tz: 'park' needs a park$"),
        (("2025-07-04", "2025-07-04", "3", "CET"), r"^tz: 'CET' is neither 'utc' nor 'park'$"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(args, message):
    with pytest.raises(coverage.BadParameter, match=message):
        coverage.parse_request(*args, today=DAY)


def test_the_default_is_the_last_fourteen_days_in_utc():
    request = coverage.parse_request(None, None, "", "", today=DAY)
    assert (request.start, request.end, request.park_id, request.park_time) == (date(2025, 6, 21), DAY, None, False)
    assert coverage.parse_request("2024-07-05", "2025-07-04", None, None, today=DAY).start == date(2024, 7, 5)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, r"^hour: missing"),
        ("2025-07-04 14:00", r"^hour: '2025-07-04 14:00' is not in UTC"),
        ("2025-07-04T14:30:00Z", r"is not on the hour$"),
        ("2025-07-04T14:00:00+02:00", r"is not in UTC"),
        ("yesterday", r"^hour: 'yesterday' is not an ISO 8601 time"),
        ("9999-12-31T23:00:00Z", r"^hour: '9999-12-31T23:00:00Z' is outside 1970-01-02..2099-12-31$"),
    ],
)
def test_a_bad_cell_hour_is_refused_by_name(value, message):
    with pytest.raises(coverage.BadParameter, match=message):
        coverage.parse_hour(value)
    assert coverage.parse_hour("2025-07-04T14:00:00Z") == datetime(2025, 7, 4, 14)
