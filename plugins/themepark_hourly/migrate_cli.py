"""scripts/migrate.sh: the migrations by hand, on the connection the DAG's migrate task uses.

    up                       apply every pending migration (what the migrate task does)
    down --to NNN [--dry-run]  undo the applied migrations above NNN, newest first
    status                   applied and pending migrations, and who holds the migration lock

The connection is the migrate task's: THEMEPARK_MIGRATE_CONN_ID's, else THEMEPARK_CONN_ID's
(default themepark_db), e.g. AIRFLOW_CONN_THEMEPARK_DB. Every command takes the migration lock
without waiting: while a DAG run migrates it refuses at once (exit 3), as it does when a rollback
is refused. Exit codes: 0 done, 1 failed, 2 bad arguments, 3 refused (nothing changed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from themepark_hourly import config, db, migrations, rollback

REFUSED = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/migrate.sh",
        description="Apply, undo or list this package's database migrations (docs/ROLLBACK.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="apply every pending migration, as the DAG's migrate task does")
    down = commands.add_parser("down", help="undo applied migrations above a version, newest first")
    down.add_argument("--to", required=True, type=_version, metavar="NNN", help="the version to end at, e.g. 012")
    down.add_argument("--dry-run", action="store_true", help="print what each step would change; change nothing")
    commands.add_parser("status", help="list applied and pending migrations")
    return parser


def _version(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a migration version such as 012")
    return int(text)


def _lock_refusal(exc: db.LockTimeout) -> str:
    return (
        f"refused, nothing changed: {exc}. A DAG run (its migrate task) or another migrate.sh is migrating "
        f"this database; pause the DAG, wait for its running runs to end, then run this again."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    conn_id = config.migrate_conn_id()
    try:
        with db.connection(conn_id) as conn:
            if args.command == "status":
                for line in rollback.status(conn).lines():
                    print(line)
            elif args.command == "up":
                print(migrations.migrate(conn, lock_timeout=0).summary())
            else:
                result = rollback.rollback(conn, args.to, dry_run=args.dry_run)
                print(result.summary(args.to) + ("; nothing changed (dry run)" if args.dry_run else ""))
    except db.LockTimeout as exc:
        print(_lock_refusal(exc), file=sys.stderr)
        return REFUSED
    except rollback.RollbackRefused as exc:
        print(str(exc), file=sys.stderr)
        return REFUSED
    except migrations.MigrationError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a person reads this: the cause, not a traceback
        print(f"failed on connection {conn_id!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
