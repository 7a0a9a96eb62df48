"""Reading the project's .sql files and splitting them into statements.

The DB-API executes one statement per call, while the files are also meant to run unchanged in
the plain ``mariadb``/``mysql`` client. The common-sql provider's splitter (sqlparse) cuts every
file in sql/ where that client does; docs/decisions/0014-sql-split-by-the-common-sql-provider.md
says where the two would differ and the test that keeps sql/ clear of it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from airflow.providers.common.sql.hooks.sql import DbApiHook

from themepark_hourly import config

_NAME_MARKER = "-- name:"


def split_statements(text: str) -> list[str]:
    """The statements of SQL text, comments and the closing semicolons dropped."""
    return DbApiHook.split_sql_string(text, strip_semicolon=True)


def path_of(relative_path: str) -> Path:
    return config.sql_dir() / relative_path


def read(relative_path: str) -> str:
    """Text of a file under the sql/ folder, e.g. ``aggregation/ride_hourly_stats.sql``."""
    path = path_of(relative_path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"SQL file {path} not found (set THEMEPARK_SQL_DIR to the folder holding sql/)"
        ) from None


def named_statements(relative_path: str) -> dict[str, str]:
    """Statements of a file whose statements each follow a ``-- name: <name>`` line, in file order."""
    path = path_of(relative_path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        read(relative_path)  # raises the explanatory error
        raise
    # Parsed once per version of the file: every hour's tasks use the same statements.
    return dict(_parse_named(relative_path, str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=32)
def _parse_named(relative_path: str, _path: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in read(relative_path).splitlines(keepends=True):
        if line.startswith(_NAME_MARKER):
            name = line[len(_NAME_MARKER) :].strip()
            if not name or name in sections:
                raise ValueError(f"{relative_path}: empty or repeated statement name {name!r}")
            current = sections[name] = []
        elif current is not None:
            current.append(line)
    result = {}
    for name, lines in sections.items():
        parts = split_statements("".join(lines))
        if len(parts) != 1:
            raise ValueError(f"{relative_path}: section {name!r} must hold exactly one statement")
        result[name] = parts[0]
    return result
