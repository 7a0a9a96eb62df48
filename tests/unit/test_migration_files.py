"""The migration files without a server: the required ones exist, all of sql/ is portable to
MySQL 8, and the lock names the runner and the aggregation take."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import REPO

MIGRATIONS = REPO / "sql" / "migrations"

REQUIRED_FILES = [
    "013_add_hourly_stats.sql",
    "014_add_hourly_aggregation_type.sql",
    "015_relax_aggregation_log_unique_constraint.sql",
]


# Syntax MariaDB accepts but MySQL 8 rejects; sql/ must run on both.
MARIADB_ONLY = [
    (re.compile(r"\bDROP\s+INDEX\s+IF\s+EXISTS\b", re.I), "DROP INDEX IF EXISTS"),
    (re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\b", re.I), "CREATE INDEX IF NOT EXISTS"),
    (re.compile(r"\bADD\s+(COLUMN\s+)?IF\s+NOT\s+EXISTS\b", re.I), "ADD [COLUMN] IF NOT EXISTS"),
    (re.compile(r"\bDROP\s+(COLUMN\s+)?IF\s+EXISTS\b", re.I), "DROP [COLUMN] IF EXISTS"),
    (
        re.compile(r"\b(ADD|DROP)\s+(UNIQUE\s+)?(INDEX|KEY)\s+IF\s+(NOT\s+)?EXISTS\b", re.I),
        "ADD/DROP INDEX IF [NOT] EXISTS",
    ),
    (re.compile(r"\bMODIFY\s+(COLUMN\s+)?IF\s+EXISTS\b", re.I), "MODIFY IF EXISTS"),
    (re.compile(r"\bCREATE\s+OR\s+REPLACE\s+TABLE\b", re.I), "CREATE OR REPLACE TABLE"),
    (re.compile(r"\bRETURNING\b", re.I), "RETURNING"),
]


def _sql_files() -> list[Path]:
    return sorted((REPO / "sql").rglob("*.sql"))


def test_required_migration_files_exist():
    names = [p.name for p in MIGRATIONS.glob("*.sql")]
    for required in REQUIRED_FILES:
        assert required in names
    assert any("aggregated_from_ts" in p.read_text() for p in MIGRATIONS.glob("*.sql"))


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_sql_is_portable_to_mysql(path: Path):
    text = "\n".join(line.split("--", 1)[0] for line in path.read_text().splitlines())
    found = [label for pattern, label in MARIADB_ONLY if pattern.search(text)]
    assert not found, f"{path.name} uses MariaDB-only syntax: {found}"


def test_portability_check_catches_mariadb_only_syntax():
    sample = "ALTER TABLE t DROP INDEX IF EXISTS k; ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT"
    hits = [label for pattern, label in MARIADB_ONLY if pattern.search(sample)]
    assert "DROP INDEX IF EXISTS" in hits and "ADD [COLUMN] IF NOT EXISTS" in hits


def test_lock_names_differ_for_databases_sharing_a_long_prefix():
    from themepark_hourly import aggregation, db
    from themepark_hourly.hours import Hour

    # Two 64-character database names that differ only in their last character.
    first, second = "tracker_" + "x" * 55 + "1", "tracker_" + "x" * 55 + "2"
    hour = Hour.parse("2025-12-08T14:00")
    for name_of in (lambda s: db.lock_name("migrate", s), lambda s: aggregation.hour_lock_name(s, hour)):
        assert name_of(first) != name_of(second)
        assert len(name_of(first)) <= 64  # the server's limit for GET_LOCK names
    assert aggregation.hour_lock_name(first, hour).endswith(".2025120814")
