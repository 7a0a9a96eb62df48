"""Undoes migrations: sql/migrations/down/NNN_name.down.sql, newest first, under the migration lock.

Each down step undoes its one migration and then removes that migration's ledger rows, in the
order that keeps the ledger true after every step: a step that fails leaves its migration
recorded as applied (the down files are idempotent, so running again finishes it). Before any
step runs, everything that would make a step fail on data is checked (rollback_checks.sql): a
refusal changes nothing. Migrations 001-007 create or extend the tracker's own tables and are
never undone. What each step keeps and what it loses: docs/ROLLBACK.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from themepark_hourly import config, db, db_errors, migrations
from themepark_hourly.migrations import Migration, MigrationError
from themepark_hourly.sql_files import named_statements, split_statements

#: The highest version that is never undone: 001-007 are the tracker's own tables.
NEVER_UNDONE = 7
CHECKS_SQL = "rollback_checks.sql"
LOG_ARCHIVE = "aggregation_log_hourly_archive"
#: Tables 013's down step renames; an archive of the same name already there blocks it.
STATS_ARCHIVES = {"ride_hourly_stats": "ride_hourly_stats_archive", "park_hourly_stats": "park_hourly_stats_archive"}
_DOWN_NAME = re.compile(r"^(\d{3,})_([A-Za-z0-9_]+)\.down\.sql$")
_GUARDED = re.compile(r"^SET\s+@(\w+)\s*=", re.I)
_SKIPPED_IN_DRY_RUN = re.compile(r"^(PREPARE|EXECUTE|DEALLOCATE|START\s+TRANSACTION|COMMIT)\b", re.I)
_INSERT_SELECT = re.compile(r"^INSERT\s+INTO\s+(\w+)\s*\(.*?\)\s*(SELECT\s.*\sFROM\s+(\w+)\s.*)$", re.I | re.S)
_CREATE_TABLE = re.compile(r"^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)
_TABLE_GOES = re.compile(r"^(?:RENAME\s+TABLE|DROP\s+TABLE(?:\s+IF\s+EXISTS)?)\s+(\w+)", re.I)


class RollbackRefused(MigrationError):
    """The rollback cannot go ahead as asked; nothing was changed."""


@dataclass(frozen=True)
class DownStep:
    version: int
    name: str
    path: Path

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class RollbackResult:
    undone: list[str]
    dry_run: bool

    def summary(self, target: int) -> str:
        if not self.undone:
            return f"nothing to undo: no migration above {target:03d} is applied"
        verb = "would undo" if self.dry_run else "undid"
        return f"{verb} {len(self.undone)} migration(s), newest first: {', '.join(self.undone)}"


def discover_down(folder: Path | None = None) -> dict[int, DownStep]:
    """The down steps by version; each must undo an up migration of the same version and name."""
    folder = folder or config.sql_dir() / "migrations" / "down"
    ups = {m.version: m for m in migrations.discover(folder.parent)}
    found: dict[int, DownStep] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _DOWN_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: down step names must look like 013_add_things.down.sql")
        version, name = int(match.group(1)), match.group(2)
        up = ups.get(version)
        if up is None or up.name != name:
            raise MigrationError(f"{path.name} undoes no migration: there is no {version:03d}_{name}.sql")
        found[version] = DownStep(version, name, path)
    return found


@dataclass(frozen=True)
class Status:
    applied: list[tuple[int, str, Any]]
    pending: list[Migration]
    lock_holder: int | None
    undoable: set[int]

    def lines(self) -> list[str]:
        out = ["applied:"] if self.applied else ["applied: none (no ledger, or an empty one)"]
        for version, name, applied_at in self.applied:
            note = (
                ""
                if version in self.undoable
                else "  (never undone)"
                if version <= NEVER_UNDONE
                else "  (no down step)"
            )
            out.append(f"  {version:03d}_{name}.sql  {applied_at}{note}")
        out.append("pending:" if self.pending else "pending: none")
        out.extend(f"  {m.filename}" for m in self.pending)
        if self.lock_holder is not None:
            out.append(f"the migration lock is held by connection {self.lock_holder} (a DAG run migrating?)")
        return out


def status(conn: Any) -> Status:
    """What the ledger says is applied, which migration files are pending, who holds the lock."""
    ups = migrations.discover()
    applied_sums = migrations.applied_versions(conn)
    todo = migrations.pending(ups, applied_sums)  # also refuses edited applied files
    applied = []
    if applied_sums:
        applied = [
            (int(v), str(n), at) for v, n, at in db.query_all(conn, named_statements(migrations.LEDGER_SQL)["applied"])
        ]
    holder = db.query_one(conn, "SELECT IS_USED_LOCK(%s)", (migrations.lock_name(conn),))[0]
    conn.rollback()
    return Status(applied, todo, None if holder is None else int(holder), set(discover_down()))


def plan(conn: Any, target: int) -> list[DownStep]:
    """The down steps that take the database to ``target``, newest first; refuses what cannot be undone."""
    if target < NEVER_UNDONE:
        raise RollbackRefused(
            f"--to {target:03d} is below {NEVER_UNDONE:03d}: migrations 001-{NEVER_UNDONE:03d} create the tracker's own "
            f"tables and are never undone (--to 012 undoes everything this package added)"
        )
    ups = migrations.discover()
    applied = migrations.applied_versions(conn)
    migrations.pending(ups, applied)  # refuses when an applied file was edited since
    steps = discover_down()
    todo = sorted((v for v in applied if v > target), reverse=True)
    missing = [v for v in todo if v not in steps]
    if missing:
        raise RollbackRefused(
            f"no down step for applied migration(s) {', '.join(f'{v:03d}' for v in missing)} "
            f"(sql/migrations/down/ has none): nothing changed"
        )
    return [steps[v] for v in todo]


def blockers(conn: Any, steps: list[DownStep]) -> list[str]:
    """Why these steps would fail on the data as it is; empty when they can run."""
    versions = {s.version for s in steps}
    sql = named_statements(CHECKS_SQL)
    tables = _tables(conn)
    found = []
    if 15 in versions:
        duplicates = db.query_all(conn, sql["legacy_duplicates"])
        if duplicates:
            rows = sum(int(n) for _, _, n in duplicates)
            shown = ", ".join(f"{d} {t} ({n} rows)" for d, t, n in duplicates[:5])
            found.append(
                f"015's unique key (aggregation_date, aggregation_type) cannot come back: {rows} aggregation_log rows "
                f"that are not hourly share {len(duplicates)} (date, type) pair(s): {shown}"
                f"{' ...' if len(duplicates) > 5 else ''}. They were written while the key was gone (not by this "
                f"package, which writes 'hourly' rows only); list them with: SELECT * FROM aggregation_log WHERE "
                f"aggregation_type <> 'hourly' AND (aggregation_date, aggregation_type) IN (SELECT aggregation_date, "
                f"aggregation_type FROM aggregation_log GROUP BY 1, 2 HAVING COUNT(*) > 1); keep one row of each pair "
                f"(back the others up first), then run this command again"
            )
    if versions & {14, 15, 16, 19} and LOG_ARCHIVE in tables:
        (collisions,) = db.query_one(conn, sql["archived_log_ids"])
        if collisions:
            found.append(
                f"{collisions} hourly aggregation_log row(s) have a log_id that {LOG_ARCHIVE} already holds (the "
                f"table's AUTO_INCREMENT counter went back since an earlier rollback): rename {LOG_ARCHIVE} "
                f"(e.g. to {LOG_ARCHIVE}_1) and run this command again"
            )
    if 13 in versions:
        for table, archive in STATS_ARCHIVES.items():
            if table in tables and archive in tables:
                found.append(
                    f"{archive} already exists (an earlier rollback): 013's down step renames {table} to that name. "
                    f"Back it up and drop it, or rename it (RENAME TABLE {archive} TO {archive}_1), then run this "
                    f"command again"
                )
    conn.rollback()
    return found


def _dry_run_step(conn: Any, step: DownStep, moved: set[tuple[str, str]], out: Callable[[str], None]) -> None:
    """Print what the step's statements would do on the database as it is now; change nothing.

    Guards (SET @var = IF(...)) only read, so they are evaluated and the statement they chose is
    printed; PREPARE/EXECUTE and transaction statements are skipped; any other statement is
    printed as it stands. Rows an INSERT ... SELECT would copy are counted; a later step's move
    from the same table into the same archive counts none (the first one took them).
    """
    unrecorded = False
    for statement in split_statements(step.path.read_text(encoding="utf-8")):
        text = statement.strip()
        if _SKIPPED_IN_DRY_RUN.match(text):
            continue
        guarded = _GUARDED.match(text)
        if guarded:
            try:
                db.query_all(conn, text)
            except Exception as exc:  # noqa: BLE001 - the client library decides the exception class
                if db_errors.error_code(exc) != db_errors.NO_SUCH_TABLE:
                    raise
                # 017/018/021 read the side table, which a real run creates first: none recorded yet.
                if not unrecorded:
                    out("    (no index recorded as created by this package: none would be dropped)")
                unrecorded = True
                continue
            (text,) = db.query_one(conn, f"SELECT @{guarded.group(1)}")
            if text == "DO 0":
                continue
        out(f"    {_describe(conn, text, moved)}")
    conn.rollback()


def _describe(conn: Any, text: str, moved: set[tuple[str, str]]) -> str:
    one_line = " ".join(text.split())
    insert = _INSERT_SELECT.match(text)
    if insert:
        target, select, source = insert.groups()
        if (target, source) in moved:
            return f"{one_line}  -- 0 rows (an earlier step moves them)"
        (rows,) = db.query_one(conn, f"SELECT COUNT(*) FROM ({select}) AS themepark_would_move")
        if rows:
            moved.add((target, source))
        return f"{one_line}  -- {rows} row(s)"
    created = _CREATE_TABLE.match(text)
    if created:
        exists = created.group(1) in _tables(conn)
        return f"CREATE TABLE IF NOT EXISTS {created.group(1)} (...)  -- {'exists already' if exists else 'new'}"
    goes = _TABLE_GOES.match(text)
    if goes and goes.group(1) in _tables(conn):
        (rows,) = db.query_one(conn, f"SELECT COUNT(*) FROM `{goes.group(1)}`")
        return f"{one_line}  -- {goes.group(1)} has {rows} row(s)"
    return one_line


def _tables(conn: Any) -> set[str]:
    return {str(t) for (t,) in db.query_all(conn, named_statements(migrations.LEDGER_SQL)["tables"])}


def _undo(conn: Any, step: DownStep) -> None:
    """Run one down step's statements, then remove its migration's ledger rows."""
    ledger = named_statements(migrations.LEDGER_SQL)
    cur = conn.cursor()
    try:
        for number, statement in enumerate(split_statements(step.path.read_text(encoding="utf-8")), start=1):
            try:
                cur.execute(statement)
                if cur.description:
                    cur.fetchall()
            except Exception as exc:
                conn.rollback()
                raise MigrationError(
                    f"{step.filename}, statement {number} ({statement.splitlines()[0][:120]!r}) failed: {exc}. "
                    f"{step.version:03d} stays recorded as applied; the steps before it are done. Fix the cause "
                    f"and run the same command again (each step is idempotent)."
                ) from exc
        cur.execute(ledger["forget_indexes"], {"version": step.version})
        cur.execute(ledger["forget_migration"], {"version": step.version})
        conn.commit()
    finally:
        cur.close()


def rollback(conn: Any, target: int, dry_run: bool = False, out: Callable[[str], None] = print) -> RollbackResult:
    """Undo every applied migration above ``target``, newest first; with ``dry_run`` only say what.

    Takes the migration lock without waiting (db.LockTimeout when a DAG run or another runner
    holds it) and checks every step's preconditions before the first one runs (RollbackRefused).
    """
    with db.named_lock(conn, migrations.lock_name(conn), 0):
        steps = plan(conn, target)
        problems = blockers(conn, steps)
        if problems:
            raise RollbackRefused("refused, nothing changed:\n" + "\n".join(f"  - {p}" for p in problems))
        if steps and not dry_run:
            migrations.ensure_ledger(conn)  # the side table 017/018/021's down steps read
        moved: set[tuple[str, str]] = set()
        for step in steps:
            if dry_run:
                out(f"{step.version:03d} {step.filename} would run:")
                _dry_run_step(conn, step, moved, out)
            else:
                out(f"undoing {step.version:03d} ({step.filename})")
                _undo(conn, step)
    return RollbackResult([f"{s.version:03d}_{s.name}" for s in steps], dry_run)
