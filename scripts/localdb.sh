#!/usr/bin/env bash
# The project's private MariaDB, used by make targets and tests when no database is configured.
# Lives in .localdb/ under the repo (git-ignored) and listens on 127.0.0.1:$THEMEPARK_LOCALDB_PORT.
#   scripts/localdb.sh start    start it, or reuse the one already running; prints its server URL
#   scripts/localdb.sh stop     stop it (the data stays in .localdb/)
#   scripts/localdb.sh status   exit 0 when it runs and answers on the port
#   scripts/localdb.sh url      print the server URL (no database part)
# It only ever uses a server it started itself: whatever answers on the port must report this
# directory's datadir, otherwise it refuses (another project's or the system's MariaDB would
# otherwise receive migrations and demo data).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# Absolute and canonical: it is compared with the datadir the server reports and with the
# --datadir= argument of the process in the pidfile.
dir=$(realpath -m -- "${THEMEPARK_LOCALDB_DIR:-$root/.localdb}")
port=${THEMEPARK_LOCALDB_PORT:-3307}
# InnoDB's page cache. 512M holds the tests, the demo and a tracker-sized benchmark; the 10x
# benchmark's look-up indexes need about 2G to stay in memory (docs/PERFORMANCE.md).
buffer_pool=${THEMEPARK_LOCALDB_BUFFER_POOL:-512M}
data=$dir/data
sock=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
errlog=$dir/mysqld.err
url="mysql://root@127.0.0.1:$port"

# The pid in the pidfile when that process is a server on this datadir: after a crash or a
# reboot the pid may belong to anything, another MariaDB included, which must not be trusted
# (nor stopped).
our_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qFx -- "--datadir=$data" || return 1
  echo "$pid"
}

# The port our process was started with (it keeps it until stopped).
port_of() {
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | sed -n 's/^--port=//p' | tail -n 1
}

answers() {
  mariadb-admin --no-defaults -uroot -h127.0.0.1 -P"$port" --connect-timeout=2 ping >/dev/null 2>&1
}

# The datadir of whatever answers on the port, without a trailing slash; empty when nothing
# answers or root may not log in without a password (then it is not ours either).
datadir_on_port() {
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" --connect-timeout=2 -N -B \
    -e 'SELECT @@datadir' 2>/dev/null | sed 's:/*$::' || true
}

ours_on_port() {
  [ "$(datadir_on_port)" = "$data" ]
}

refuse_foreign() {
  local found
  found=$(datadir_on_port)
  echo "localdb: refusing port $port: the server answering there was not started by this script" \
    "(its datadir: ${found:-unknown, root cannot log in without a password}; ours: $data)." \
    "Pick a free port (make LOCALDB_PORT=N, or THEMEPARK_LOCALDB_PORT=N for this script alone)," \
    "or use that server on purpose: AIRFLOW_CONN_THEMEPARK_DB for the demo, THEMEPARK_TEST_SERVER for make test" >&2
  exit 1
}

find_server() {
  for candidate in "$(command -v mariadbd || true)" /usr/sbin/mariadbd /usr/sbin/mysqld; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
}

wait_until_answers() {
  for _ in $(seq 1 "$1"); do answers && return 0; sleep 0.1; done
  return 1
}

start() {
  # The client is needed to tell whose server answers, before anything else.
  "$root/scripts/system-deps.sh" server
  local pid running_port
  if pid=$(our_pid); then
    running_port=$(port_of "$pid")
    if [ "$running_port" != "$port" ]; then
      answers && refuse_foreign
      echo "localdb: the private MariaDB in $dir (pid $pid) listens on port $running_port, not $port;" \
        "use port $running_port, or stop it first (scripts/localdb.sh stop) to start it on $port" >&2
      exit 1
    fi
    wait_until_answers 100 || {
      echo "localdb: pid $pid is running but does not answer on port $port; see $errlog" >&2
      exit 1
    }
    ours_on_port || refuse_foreign
    echo "$url"
    return
  fi
  answers && refuse_foreign
  server=$(find_server)
  [ -n "$server" ] || { echo "localdb: no mariadbd found after installing mariadb-server" >&2; exit 1; }
  mkdir -p "$dir"
  user_args=()
  [ "$(id -u)" -eq 0 ] && user_args=(--user=root)
  if [ ! -d "$data/mysql" ]; then
    echo "localdb: initialising a new data directory in $data" >&2
    rm -rf "$data"
    mariadb-install-db --no-defaults --datadir="$data" "${user_args[@]}" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log" >&2; exit 1; }
  fi
  # setsid + nohup: the server must outlive the make or pytest process that started it.
  setsid nohup "$server" --no-defaults "${user_args[@]}" --datadir="$data" --socket="$sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$pidfile" --log-error="$errlog" \
    --max-connections=300 --innodb-buffer-pool-size="$buffer_pool" >/dev/null 2>&1 </dev/null &
  if wait_until_answers 300; then
    # Another server may have taken the port meanwhile (ours then exits: it cannot bind).
    ours_on_port || refuse_foreign
    echo "$url"
    return
  fi
  echo "localdb: the server did not answer within 30 s; last lines of $errlog:" >&2
  tail -n 20 "$errlog" >&2 || true
  exit 1
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    echo "localdb: not running" >&2
    return
  fi
  kill "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || { echo "localdb: stopped" >&2; return; }; sleep 0.1; done
  echo "localdb: pid $pid did not stop within 30 s" >&2
  exit 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) our_pid >/dev/null && answers && ours_on_port ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
