"""Applies sql/migrations/NNN_name.sql in order and records them in a ledger table.

Safe to call from many DAG runs at once: the work happens under a database-wide named lock, and
the ledger is read again once the lock is held, so each migration is applied exactly once. A
database that is already current costs one small query and takes no lock.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from themepark_hourly import config, db, db_errors
from themepark_hourly.sql_files import named_statements, split_statements

log = logging.getLogger(__name__)

LEDGER_TABLE = "themepark_schema_migrations"
#: The ledger's side statements: the indexes each migration added (see _apply), the rows a rollback removes.
LEDGER_SQL = "ledger.sql"
_FILE_NAME = re.compile(r"^(\d{3,})_([A-Za-z0-9_]+)\.sql$")

LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    version INT NOT NULL,
    name VARCHAR(255) NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    duration_ms INT NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""


class MigrationError(RuntimeError):
    """A migration cannot be applied, or the applied ones no longer match their files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    checksum: str

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class MigrateResult:
    applied: list[str]
    current_version: int

    def summary(self) -> str:
        if not self.applied:
            return f"schema is current (version {self.current_version:03d}); nothing applied"
        return (
            f"applied {len(self.applied)} migration(s): {', '.join(self.applied)}; "
            f"schema now at version {self.current_version:03d}"
        )


def checksum(text: str) -> str:
    # Line endings are normalised so that a checkout with CRLF does not look like an edit.
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def discover(folder: Path | None = None) -> list[Migration]:
    folder = folder or config.sql_dir() / "migrations"
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration file names must look like 013_add_things.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name} and {found[version].filename} share the version number {version:03d}")
        text = path.read_text(encoding="utf-8")
        found[version] = Migration(version, match.group(2), path, checksum(text))
    if not found:
        raise MigrationError(f"no migration files found in {folder}")
    return [found[v] for v in sorted(found)]


def _ledger(conn: Any) -> dict[int, str] | None:
    """Applied versions and their checksums; None when the ledger table does not exist yet."""
    try:
        rows = db.query_all(conn, f"SELECT version, checksum FROM {LEDGER_TABLE}")
    except Exception as exc:  # noqa: BLE001 - the client library decides the exception class
        if db_errors.error_code(exc) == db_errors.NO_SUCH_TABLE:
            conn.rollback()
            return None
        raise
    conn.rollback()  # end the read transaction: later snapshots must see other runners' work
    return {int(version): checksum for version, checksum in rows}


def _check_unchanged(migrations: list[Migration], applied: dict[int, str]) -> None:
    for m in migrations:
        if m.version in applied and applied[m.version] != m.checksum:
            raise MigrationError(
                f"{m.filename} was changed after it was applied (ledger checksum "
                f"{applied[m.version][:12]}..., file {m.checksum[:12]}...). Applied migrations must "
                f"never be edited: restore the file and put the change in a new migration."
            )


def pending(migrations: list[Migration], applied: dict[int, str] | None) -> list[Migration]:
    applied = applied or {}
    _check_unchanged(migrations, applied)
    return [m for m in migrations if m.version not in applied]


def _indexes(conn: Any) -> tuple[set[str], set[tuple[str, str]]]:
    """The database's tables and its (table, index) pairs, from information_schema."""
    sql = named_statements(LEDGER_SQL)
    tables = {str(t) for (t,) in db.query_all(conn, sql["tables"])}
    indexes = {(str(t), str(i)) for t, i in db.query_all(conn, sql["indexes"])}
    return tables, indexes


def _apply(conn: Any, migration: Migration) -> int:
    started = time.monotonic()
    statements = split_statements(migration.path.read_text(encoding="utf-8"))
    # Which indexes this migration adds to tables that existed before it: its down step drops
    # those and no other (017/018/021 add one only where no equivalent exists, whatever its name).
    tables_before, indexes_before = _indexes(conn)
    cur = conn.cursor()
    try:
        for number, statement in enumerate(statements, start=1):
            try:
                cur.execute(statement)
                if cur.description:
                    cur.fetchall()
            except Exception as exc:
                conn.rollback()
                raise MigrationError(
                    f"{migration.filename}, statement {number} ({statement.splitlines()[0][:120]!r}) "
                    f"failed: {exc}. Nothing after it ran and the migration is not recorded as applied; "
                    f"fix the cause and run migrate again."
                ) from exc
        duration_ms = int((time.monotonic() - started) * 1000)
        _, indexes_after = _indexes(conn)
        for table, index in sorted(indexes_after - indexes_before):
            if table in tables_before:
                cur.execute(
                    named_statements(LEDGER_SQL)["record_index"],
                    {"table": table, "index": index, "version": migration.version},
                )
        cur.execute(
            f"INSERT INTO {LEDGER_TABLE} (version, name, checksum, duration_ms) VALUES (%s, %s, %s, %s)",
            (migration.version, migration.name, migration.checksum, duration_ms),
        )
        conn.commit()
    finally:
        cur.close()
    return duration_ms


def lock_name(conn: Any) -> str:
    """The named lock every migration runner of this database takes (migrate, scripts/migrate.sh)."""
    # The lock is per database: two tracker databases on one server migrate independently.
    schema = db.query_one(conn, "SELECT DATABASE()")[0]
    if not schema:
        raise MigrationError("the connection names no database: add one to the connection URI")
    return db.lock_name("migrate", schema)


def ensure_ledger(conn: Any) -> None:
    """Create the ledger and its side table when missing (under the lock)."""
    with conn.cursor() as cur:
        cur.execute(LEDGER_DDL)
        cur.execute(named_statements(LEDGER_SQL)["created_indexes_table"])
    conn.commit()


def applied_versions(conn: Any) -> dict[int, str]:
    """Applied versions and their checksums (empty when there is no ledger yet)."""
    return _ledger(conn) or {}


def migrate(conn: Any, folder: Path | None = None, lock_timeout: int | None = None) -> MigrateResult:
    """Apply every pending migration; return what was applied."""
    migrations = discover(folder)
    latest = migrations[-1].version
    todo = pending(migrations, _ledger(conn))
    if not todo:
        return MigrateResult([], latest)

    timeout = config.lock_timeout_seconds() if lock_timeout is None else lock_timeout
    with db.named_lock(conn, lock_name(conn), timeout):
        ensure_ledger(conn)
        todo = pending(migrations, _ledger(conn))  # another runner may have done the work
        applied = []
        for migration in todo:
            duration_ms = _apply(conn, migration)
            log.info("applied %s in %d ms", migration.filename, duration_ms)
            applied.append(migration.filename)
    return MigrateResult(applied, latest)
