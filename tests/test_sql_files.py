"""The SQL splitter: the runner must cut files where the plain client does."""

from __future__ import annotations

import pytest

from themepark_hourly.sql_files import named_statements, split_statements


def test_splits_on_semicolons_outside_quotes_and_comments():
    text = (
        "-- leading comment; with a semicolon\n"
        "CREATE TABLE a (x VARCHAR(5) DEFAULT ';');\n"
        "# hash comment;\n"
        "SET @s = 'it''s; fine', @t = \"a\\\";b\";\n"
        "/* block; comment */ SELECT `odd;name` FROM a;\n"
        "SELECT 1 -- trailing\n"
    )
    parts = split_statements(text)
    assert [p.sql for p in parts] == [
        "CREATE TABLE a (x VARCHAR(5) DEFAULT ';')",
        "SET @s = 'it''s; fine', @t = \"a\\\";b\"",
        "SELECT `odd;name` FROM a",
        "SELECT 1",
    ]
    assert [p.line for p in parts] == [2, 4, 5, 6]


def test_double_dash_needs_a_space_to_be_a_comment():
    assert [p.sql for p in split_statements("SELECT 5--1;")] == ["SELECT 5--1"]


def test_empty_statements_are_dropped():
    assert split_statements(" ; ;\n-- only a comment\n") == []


def test_named_statements_are_one_statement_each():
    sections = named_statements("aggregation/ride_hourly_stats.sql")
    assert {"stage", "upsert", "delete_stale", "bad_rows"} <= set(sections)
    assert all(";" not in sql.rstrip()[-1:] for sql in sections.values())


def test_named_statements_reject_two_statements(tmp_path, monkeypatch):
    (tmp_path / "x.sql").write_text("-- name: a\nSELECT 1;\nSELECT 2;\n")
    monkeypatch.setenv("THEMEPARK_SQL_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="exactly one statement"):
        named_statements("x.sql")
