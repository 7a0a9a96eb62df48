"""The seeded sample generator without a server: deterministic, and with what the demo promises
(tests/integration/test_sample_data.py aggregates its hours)."""

from __future__ import annotations

from datetime import date

from themepark_devtools import sample_data

SPEC = sample_data.SampleSpec(parks=5, rides_per_park=8, first_day=date(2025, 7, 4), seed=7)


def test_same_seed_same_rows_other_seed_other_rows():
    a, b = sample_data.Sample(SPEC), sample_data.Sample(SPEC)
    assert a.ride_rows() == b.ride_rows()
    assert a.snapshots(SPEC.first_day) == b.snapshots(SPEC.first_day)
    other = sample_data.Sample(sample_data.SampleSpec(parks=5, rides_per_park=8, seed=8))
    assert other.snapshots(SPEC.first_day) != a.snapshots(SPEC.first_day)


def test_the_day_has_what_the_demo_promises():
    sample = sample_data.Sample(sample_data.SampleSpec())
    ride_rows, park_rows = sample.snapshots(sample.spec.first_day)
    statuses = {row[4] for row in ride_rows}
    assert {"OPERATING", "DOWN", "CLOSED", "REFURBISHMENT", None} <= statuses
    assert len(sample.rides) >= 100
    zones = {p.timezone for p in sample.parks}
    assert any(z.startswith("Europe/") for z in zones) and any(p.is_disney or p.is_universal for p in sample.parks)
    assert {r.behaviour for r in sample.rides} >= {"never_opens", "refurbishment", "down_at_opening"}
    waits = [row[2] for row in ride_rows if row[2] is not None]
    assert min(waits) == 0 and max(waits) >= 60
    # Park rows come a few seconds after the poll, some in the next minute.
    assert any(
        r[1][14:16] != p[1][14:16] for r, p in zip(ride_rows[:: len(sample.rides) // 8], park_rows, strict=False)
    )
