"""The SQL splitter (the runner must cut files where the plain client does) and how the SQL files are written."""

from __future__ import annotations

import re

import pytest

from support import REPO
from support.snapshot_aliases import SNAPSHOT_TABLES
from themepark_hourly import aggregation
from themepark_hourly.sql_files import named_statements, read, split_statements


def test_splits_on_semicolons_outside_quotes_and_comments():
    text = (
        "-- leading comment; with a semicolon\n"
        "CREATE TABLE a (x VARCHAR(5) DEFAULT ';');\n"
        "# hash comment;\n"
        "SET @s = 'it''s; fine', @t = \"a\\\";b\";\n"
        "/* block; comment */ SELECT `odd;name` FROM a;\n"
        "SELECT 1 -- trailing\n"
    )
    assert [re.sub(r"\s+", " ", s).strip() for s in split_statements(text)] == [
        "CREATE TABLE a (x VARCHAR(5) DEFAULT ';')",
        "SET @s = 'it''s; fine', @t = \"a\\\";b\"",
        "SELECT `odd;name` FROM a",
        "SELECT 1",
    ]


def test_prepared_ddl_of_the_migrations_is_cut_into_its_four_statements():
    text = (REPO / "sql" / "migrations" / "018_add_ride_status_time_index.sql").read_text()
    parts = split_statements(text)
    assert [p.split()[0] for p in parts] == ["SET", "PREPARE", "EXECUTE", "DEALLOCATE"]
    assert "'ALTER TABLE ride_status_snapshots ADD INDEX idx_rss_ride_status_recorded" in parts[0]


def test_no_sql_file_has_a_double_dash_the_client_would_not_take_for_a_comment():
    # The client starts a comment at "-- " (a space after the dashes), sqlparse at any "--": in
    # "SELECT 5--1" they would disagree. Keeping sql/ free of that makes them cut it alike.
    for path in sorted((REPO / "sql").rglob("*.sql")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            assert not re.search(r"--(?![ \t]|$)", line), f"{path.name}:{number}: {line}"


def test_empty_statements_are_dropped():
    assert split_statements(" ; ;\n-- only a comment\n") == []


def test_named_statements_are_one_statement_each():
    sections = named_statements("aggregation/ride_hourly_stats.sql")
    assert {"stage", "upsert", "delete_stale", "bad_rows"} <= set(sections)
    assert all(not sql.rstrip().endswith(";") and "--" not in sql for sql in sections.values())


def test_named_statements_reject_two_statements(tmp_path, monkeypatch):
    (tmp_path / "x.sql").write_text("-- name: a\nSELECT 1;\nSELECT 2;\n")
    monkeypatch.setenv("THEMEPARK_SQL_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="exactly one statement"):
        named_statements("x.sql")


def test_each_file_lists_its_statements_in_the_order_the_task_runs_them():
    from themepark_hourly import aggregation

    for path, order in (
        (aggregation.PARK_SNAPSHOTS_SQL, aggregation.STAGE_PARK_SNAPSHOTS),
        (aggregation.RIDE_SQL, aggregation.RIDE_STATEMENTS),
        (aggregation.PARK_SQL, aggregation.PARK_STATEMENTS),
    ):
        assert list(named_statements(path)) == list(order), path


def test_snapshot_tables_are_always_aliased_for_the_plan_check():
    aliases: dict[str, list[str]] = {table: [] for table in SNAPSHOT_TABLES}
    for path in (aggregation.RIDE_SQL, aggregation.PARK_SQL, aggregation.PARK_SNAPSHOTS_SQL):
        text = re.sub(r"--[^\n]*", "", read(path))
        for table in SNAPSHOT_TABLES:
            aliases[table] += re.findall(rf"\b{table}\s+(?:AS\s+)?(\w+)", text, flags=re.IGNORECASE)
    for table, prefix in SNAPSHOT_TABLES.items():
        assert aliases[table], f"no statement reads {table}"
        assert all(alias.startswith(prefix) for alias in aliases[table]), (table, aliases[table])
