"""The seeded sample generator's rows aggregated exactly as the reference says, hour after hour
of a whole generated day (tests/unit/test_sample_generator.py: the generator itself)."""

from __future__ import annotations

from datetime import date

import pytest

from support.aggregate_helpers import aggregate, assert_matches_reference
from themepark_devtools import sample_data
from themepark_hourly import db

SPEC = sample_data.SampleSpec(parks=5, rides_per_park=8, first_day=date(2025, 7, 4), seed=7)


@pytest.mark.parametrize(
    "hour",
    ["2025-07-04 13:00:00", "2025-07-04 17:00:00", "2025-07-04 21:00:00", "2025-07-05 01:00:00", "2025-07-04 08:00:00"],
)
def test_generated_hours_match_the_reference(migrated, hour):
    with db.connection() as conn:
        counts = sample_data.write(conn, sample_data.Sample(SPEC))
    assert counts["rides"] == 40 and counts["ride_snapshots"] > 1000
    aggregate(migrated, hour)
    rides, parks = assert_matches_reference(migrated, hour)
    assert rides and parks
