"""Reading the project's .sql files and splitting them into statements.

The DB-API executes one statement per call, while the files are also meant to run unchanged in
the plain ``mariadb``/``mysql`` client, so they are split here the way that client does for files
without DELIMITER: at semicolons outside quotes and comments.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from themepark_hourly import config


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line of the file where the statement starts

    def first_line(self) -> str:
        return self.sql.strip().splitlines()[0][:120]


def split_statements(text: str) -> list[Statement]:
    """Split SQL text into statements, keeping comments out and quoted semicolons in."""
    statements: list[Statement] = []
    buf: list[str] = []
    start_line = None
    line = 1
    i = 0
    n = len(text)
    quote = None
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if quote:
            buf.append(ch)
            if ch == "\\" and quote != "`" and nxt:
                buf.append(nxt)
                line += nxt == "\n"
                i += 2
                continue
            if ch == quote:
                if nxt == quote:  # doubled quote inside a string
                    buf.append(nxt)
                    i += 2
                    continue
                quote = None
            line += ch == "\n"
            i += 1
            continue
        if ch == "-" and nxt == "-" and (i + 2 >= n or text[i + 2] in " \t\r\n") or ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            buf.append(" ")
            i = end
            continue
        if ch == ";":
            sql = "".join(buf).strip()
            if sql:
                statements.append(Statement(sql, start_line or line))
            buf, start_line = [], None
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
        if start_line is None and not ch.isspace():
            start_line = line
        buf.append(ch)
        line += ch == "\n"
        i += 1
    sql = "".join(buf).strip()
    if sql:
        statements.append(Statement(sql, start_line or line))
    return statements


def read(relative_path: str) -> str:
    """Text of a file under the sql/ folder, e.g. ``aggregation/ride_hourly_stats.sql``."""
    path = config.sql_dir() / relative_path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"SQL file {path} not found (set THEMEPARK_SQL_DIR to the folder holding sql/)"
        ) from None


def statements(relative_path: str) -> list[Statement]:
    return split_statements(read(relative_path))


def path_of(relative_path: str) -> Path:
    return config.sql_dir() / relative_path


_NAME_MARKER = "-- name:"


def named_statements(relative_path: str) -> dict[str, str]:
    """Statements of a file whose statements each follow a ``-- name: <name>`` line."""
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
    text = read(relative_path)
    sections: dict[str, str] = {}
    current = None
    lines: list[str] = []
    for raw in text.splitlines(keepends=True):
        if raw.startswith(_NAME_MARKER):
            if current:
                sections[current] = "".join(lines)
            current = raw[len(_NAME_MARKER) :].strip()
            if not current or current in sections:
                raise ValueError(f"{relative_path}: empty or repeated statement name {current!r}")
            lines = []
        elif current:
            lines.append(raw)
    if current:
        sections[current] = "".join(lines)
    result = {}
    for name, body in sections.items():
        parts = split_statements(body)
        if len(parts) != 1:
            raise ValueError(f"{relative_path}: section {name!r} must hold exactly one statement")
        result[name] = parts[0].sql
    return result
