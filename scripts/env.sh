# The environment Airflow and the project's scripts run in, for this checkout. Source it:
#   . scripts/env.sh            (in bash; then `airflow dags test ...` works in that shell)
# The make targets that run the project source it too: these settings live here and nowhere else.
#
#   AIRFLOW_HOME                  .airflow/ in this checkout, unless set to something else beforehand
#   AIRFLOW__CORE__DAGS_FOLDER    dags/;  AIRFLOW__CORE__PLUGINS_FOLDER  plugins/
#   AIRFLOW__CORE__LOAD_EXAMPLES  False (else Airflow registers its example DAGs in the metadata database)
#   PYTHONPATH                    + plugins/ (the runtime package) and devtools/ (sample data, and
#                                 airflow_local_settings.py, which drops warnings this setup causes)
#   THEMEPARK_LOCALDB_PORT        the private MariaDB's port: LOCALDB_PORT, else as set, else 3307
#   AIRFLOW_CONN_THEMEPARK_DB     the tracker database, unless set to something else beforehand:
#                                 the private MariaDB's `themepark` database (THEMEPARK_PRIVATE_DB_URL)
#   PATH                          .venv/bin first (the venv is activated)
# Then, unless THEMEPARK_ENV_MIGRATE=0, it migrates Airflow's metadata database in AIRFLOW_HOME when
# this Airflow version has not migrated it yet (once, a few seconds; .themepark-migrated records the version).
# Sourcing it again (after a port change, or from another checkout) replaces what it set before
# and keeps what the user set.

# BASH_SOURCE names this file when sourced; $0 is the fallback of shells without it (zsh sets it so).
_tp_root=$(cd "$(dirname -- "${BASH_SOURCE[0]:-$0}")/.." && pwd)
_tp_prev=${THEMEPARK_ENV_ROOT:-}

if [ -z "${AIRFLOW_HOME:-}" ] || { [ -n "$_tp_prev" ] && [ "$AIRFLOW_HOME" = "$_tp_prev/.airflow" ]; }; then
  export AIRFLOW_HOME="$_tp_root/.airflow"
fi
export AIRFLOW__CORE__DAGS_FOLDER="$_tp_root/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$_tp_root/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False

# Previous checkout's entries out, this one's in front, the user's own kept.
_tp_path=
_tp_rest=${PYTHONPATH:-}
while [ -n "$_tp_rest" ]; do
  _tp_entry=${_tp_rest%%:*}
  case "$_tp_rest" in *:*) _tp_rest=${_tp_rest#*:} ;; *) _tp_rest= ;; esac
  case "$_tp_entry" in
    "$_tp_root/plugins" | "$_tp_root/devtools") continue ;;
  esac
  if [ -n "$_tp_prev" ]; then
    case "$_tp_entry" in "$_tp_prev/plugins" | "$_tp_prev/devtools") continue ;; esac
  fi
  _tp_path="$_tp_path${_tp_path:+:}$_tp_entry"
done
export PYTHONPATH="$_tp_root/plugins:$_tp_root/devtools${_tp_path:+:$_tp_path}"

export THEMEPARK_LOCALDB_PORT="${LOCALDB_PORT:-${THEMEPARK_LOCALDB_PORT:-3307}}"
_tp_private="mysql://root@127.0.0.1:$THEMEPARK_LOCALDB_PORT/themepark"
# A connection equal to the private URL set last time is ours to move (the port may have changed).
if [ -z "${AIRFLOW_CONN_THEMEPARK_DB:-}" ] || [ "$AIRFLOW_CONN_THEMEPARK_DB" = "${THEMEPARK_PRIVATE_DB_URL:-}" ]; then
  export AIRFLOW_CONN_THEMEPARK_DB="$_tp_private"
fi
export THEMEPARK_PRIVATE_DB_URL="$_tp_private"
export THEMEPARK_ENV_ROOT="$_tp_root"

_tp_status=0
if [ -x "$_tp_root/.venv/bin/airflow" ]; then
  if [ "${VIRTUAL_ENV:-}" != "$_tp_root/.venv" ]; then
    # activate also takes another venv's entry out of PATH.
    . "$_tp_root/.venv/bin/activate"
  fi
  if [ "${THEMEPARK_ENV_MIGRATE:-1}" != 0 ]; then
    # The installed Airflow's version, from its dist-info directory name (no Python start-up).
    _tp_version=$(cd "$_tp_root/.venv" && ls -d lib/python*/site-packages/apache_airflow-*.dist-info 2>/dev/null | head -n 1)
    _tp_version=${_tp_version##*/apache_airflow-}
    _tp_version=${_tp_version%.dist-info}
    _tp_marker="$AIRFLOW_HOME/.themepark-migrated"
    if [ "$(cat "$_tp_marker" 2>/dev/null)" != "$_tp_version" ]; then
      echo "env.sh: migrating Airflow's metadata database in $AIRFLOW_HOME for Airflow $_tp_version (once, a few seconds)" >&2
      mkdir -p "$AIRFLOW_HOME"
      if "$_tp_root/.venv/bin/airflow" db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1; then
        echo "$_tp_version" >"$_tp_marker"
      else
        echo "env.sh: airflow db migrate failed; its output is in $AIRFLOW_HOME/db-migrate.log:" >&2
        tail -n 15 "$AIRFLOW_HOME/db-migrate.log" >&2
        _tp_status=1
      fi
    fi
  fi
elif [ "${THEMEPARK_ENV_MIGRATE:-1}" != 0 ]; then
  echo "env.sh: no .venv in $_tp_root yet: run make setup, then source this again (the settings are exported already)" >&2
fi

unset _tp_root _tp_prev _tp_path _tp_rest _tp_entry _tp_private _tp_version _tp_marker
# The status tells make (and `&&` in a shell) whether the migration failed.
eval "unset _tp_status; return $_tp_status"
