"""The down steps (scripts/migrate.sh down) as files, without a server: one per migration after
007, none taken for an up migration, the archive tables created alike wherever they recur."""

from __future__ import annotations

import re

from support import REPO
from themepark_hourly import migrations, rollback
from themepark_hourly.sql_files import named_statements, split_statements

MIGRATIONS = REPO / "sql" / "migrations"
DOWN = MIGRATIONS / "down"


def test_down_steps_pair_with_the_migrations_and_are_not_taken_for_up_migrations():
    ups = migrations.discover()
    assert all(m.path.parent == MIGRATIONS for m in ups)  # sql/migrations/down/ is not read as up files
    steps = rollback.discover_down()
    assert sorted(steps) == [m.version for m in ups if m.version > rollback.NEVER_UNDONE]
    assert all(steps[m.version].name == m.name for m in ups if m.version in steps)


def _create(path, table: str) -> str:
    found = [s for s in split_statements(path.read_text()) if re.match(rf"CREATE TABLE IF NOT EXISTS {table}\b", s)]
    assert len(found) == 1, f"{path.name}: {len(found)} CREATE of {table}"
    return " ".join(found[0].split())


def test_repeated_creates_in_the_down_files_are_identical():
    archive = {
        _create(DOWN / f"{name}.down.sql", "aggregation_log_hourly_archive")
        for name in (
            "014_add_hourly_aggregation_type",
            "015_relax_aggregation_log_unique_constraint",
            "016_add_aggregation_log_run_columns",
            "019_add_aggregation_log_attempts",
        )
    }
    assert len(archive) == 1
    side = " ".join(named_statements(migrations.LEDGER_SQL)["created_indexes_table"].split())
    for name in ("017_add_snapshot_time_indexes", "018_add_ride_status_time_index", "021_add_ride_legacy_open_index"):
        assert _create(DOWN / f"{name}.down.sql", "themepark_schema_created_indexes") == side
