"""Connections to the tracker database, always in UTC and with strict SQL.

The provider's MySqlHook never sets the session time zone, and an ``init_command`` in the
connection's extra is ignored, so it is passed to the hook's constructor: every connection, and
every reconnect, starts in UTC whatever the server's default time zone. TIMESTAMP columns are
converted through the session time zone, so this is what makes recorded_at mean UTC.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

from themepark_hourly import config

log = logging.getLogger(__name__)

# Both MariaDB 10.6+ and MySQL 8.0+ accept this mode list. Strict mode turns out-of-range or
# truncated values into errors instead of silently stored wrong numbers.
SESSION_INIT = (
    "SET time_zone = '+00:00', "
    "sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
)


def connect(conn_id: str | None = None) -> Any:
    """Open a DB-API connection (autocommit off) to the Airflow connection ``conn_id``."""
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    hook = MySqlHook(mysql_conn_id=conn_id or config.conn_id(), init_command=SESSION_INIT)
    conn = hook.get_conn()
    # Every write below is an explicit transaction; the hook knows each client's autocommit API.
    hook.set_autocommit(conn, False)
    # READ COMMITTED: INSERT ... SELECT then takes no shared locks on the snapshots the collector
    # keeps writing, and replacing one hour takes no gap locks that could block another hour.
    # (The SESSION form works on MariaDB and MySQL alike; the variable names differ.)
    with contextlib.closing(conn.cursor()) as cur:
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    return conn


@contextlib.contextmanager
def connection(conn_id: str | None = None) -> Iterator[Any]:
    conn = connect(conn_id)
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def query_all(conn: Any, sql: str, params: Any = None) -> list[tuple]:
    with contextlib.closing(conn.cursor()) as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def query_one(conn: Any, sql: str, params: Any = None) -> tuple | None:
    rows = query_all(conn, sql, params)
    return rows[0] if rows else None


@contextlib.contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """A cursor for one transaction: committed when the block ends, rolled back on any error."""
    cur = conn.cursor()
    try:
        yield cur
        conn.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            conn.rollback()
        raise
    finally:
        with contextlib.suppress(Exception):
            cur.close()


def lock_name(purpose: str, schema: str, suffix: str = "") -> str:
    """A GET_LOCK name for ``purpose`` in database ``schema``.

    Lock names are server-wide and at most 64 characters, while a database name may have 64 of
    its own: it is hashed in, so that two tracker databases on one server never share a lock
    (cutting the name short would make those with a long common prefix wait on each other). Ten
    hex digits, as the hour locks have always had: a running deployment's names do not change.
    """
    digest = hashlib.sha1(schema.encode()).hexdigest()[:10]
    return ".".join(part for part in ("themepark_hourly", purpose, digest, suffix) if part)


class LockTimeout(RuntimeError):
    """A named database lock could not be had in time."""


@contextlib.contextmanager
def named_lock(conn: Any, name: str, timeout_seconds: int) -> Iterator[None]:
    """Hold MySQL/MariaDB's GET_LOCK(name) for the block: it serialises work across processes.

    The lock belongs to the connection, so the server frees it by itself if the process dies.
    """
    row = query_one(conn, "SELECT GET_LOCK(%s, %s)", (name, timeout_seconds))
    if not row or row[0] != 1:
        raise LockTimeout(f"could not take database lock {name!r} within {timeout_seconds} s: another run holds it")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            query_all(conn, "SELECT RELEASE_LOCK(%s)", (name,))
