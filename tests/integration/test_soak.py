"""A shortened soak: consecutive hours in one process leave no connection open and memory flat.
`make soak` runs the full 200 hours at a tenth of the tracker's size."""

from __future__ import annotations

from themepark_devtools import soak


def test_consecutive_hours_keep_connections_and_memory_flat(migrated):
    report = soak.run(hours=72, parks=4, rides_per_park=20, warmup=12, progress=lambda _: None)
    assert report.rides_written > 1000
    assert report.connections_after == report.connections_before
    assert report.rss_mb_at_end - report.rss_mb_after_warmup < 8, report
