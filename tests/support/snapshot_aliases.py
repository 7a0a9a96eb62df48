"""How a query plan's row is recognised as a read of a snapshot table: in sql/aggregation every
reference to one carries an alias starting with its prefix here (tests/unit/test_sql_files.py holds
the files to it; tests/integration/test_query_plans.py reads the plans by it)."""

from __future__ import annotations

SNAPSHOT_TABLES = {"ride_status_snapshots": "rss", "park_activity_snapshots": "pas"}


def is_snapshot_alias(alias: str) -> bool:
    return alias.startswith(tuple(SNAPSHOT_TABLES.values()))
