#!/usr/bin/env bash
# The package's database migrations by hand, on the connection the DAG's migrate task uses
# (AIRFLOW_CONN_THEMEPARK_DB, or the one THEMEPARK_MIGRATE_CONN_ID names):
#
#   scripts/migrate.sh status                     applied and pending migrations
#   scripts/migrate.sh up                         apply the pending ones (what migrate does)
#   scripts/migrate.sh down --to 012 [--dry-run]  undo everything above 012, newest first
#
# Refuses at once (exit 3) while a DAG run holds the migration lock. No make needed: it runs the
# project's .venv when there is one, else python3 (which must have the requirements installed).
# The rollback runbook: docs/ROLLBACK.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=$root/.venv/bin/python
[ -x "$python" ] || python=$(command -v python3)
export PYTHONPATH="$root/plugins${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m themepark_hourly.migrate_cli "$@"
