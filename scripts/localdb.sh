#!/usr/bin/env bash
# The project's private MariaDB, used by make targets and tests when no database is configured.
# Lives in .localdb/ under the repo (git-ignored) and listens on 127.0.0.1:$THEMEPARK_LOCALDB_PORT.
#   scripts/localdb.sh start    start it, or reuse the one already running; prints its server URL
#   scripts/localdb.sh stop     stop it (the data stays in .localdb/)
#   scripts/localdb.sh status   exit 0 when it runs
#   scripts/localdb.sh url      print the server URL (no database part)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${THEMEPARK_LOCALDB_DIR:-$root/.localdb}
port=${THEMEPARK_LOCALDB_PORT:-3307}
# InnoDB's page cache. 512M holds the tests, the demo and a tracker-sized benchmark; the 10x
# benchmark's look-up indexes need about 2G to stay in memory (docs/PERFORMANCE.md).
buffer_pool=${THEMEPARK_LOCALDB_BUFFER_POOL:-512M}
data=$dir/data
sock=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
errlog=$dir/mysqld.err
url="mysql://root@127.0.0.1:$port"

ours_running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
  mariadb-admin --no-defaults -uroot -h127.0.0.1 -P"$port" --connect-timeout=2 ping >/dev/null 2>&1
}

find_server() {
  for candidate in "$(command -v mariadbd || true)" /usr/sbin/mariadbd /usr/sbin/mysqld; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
}

start() {
  if ours_running; then
    for _ in $(seq 1 100); do answers && { echo "$url"; return; }; sleep 0.1; done
    echo "localdb: pid $(cat "$pidfile") is running but does not answer on port $port; see $errlog" >&2
    exit 1
  fi
  if answers; then
    echo "localdb: port $port is taken by a server this project did not start;" \
      "pick a free port (make LOCALDB_PORT=N, or THEMEPARK_LOCALDB_PORT=N for this script alone)," \
      "or use that server: AIRFLOW_CONN_THEMEPARK_DB for the demo, THEMEPARK_TEST_SERVER for make test" >&2
    exit 1
  fi
  "$root/scripts/system-deps.sh" server
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
    --max-connections=300 --innodb-buffer-pool-size="$buffer_pool" >/dev/null 2>&1 < /dev/null &
  for _ in $(seq 1 300); do
    if answers; then echo "$url"; return; fi
    sleep 0.1
  done
  echo "localdb: the server did not answer within 30 s; last lines of $errlog:" >&2
  tail -n 20 "$errlog" >&2 || true
  exit 1
}

stop() {
  if ! ours_running; then
    echo "localdb: not running" >&2
    return
  fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || { echo "localdb: stopped" >&2; return; }; sleep 0.1; done
  echo "localdb: pid $pid did not stop within 30 s" >&2
  exit 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) ours_running && answers ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
