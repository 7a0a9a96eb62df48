#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the project needs, only when they are missing:
#   build   venv and the headers of $PYTHON (Debian ships them apart from the interpreter),
#           pkg-config + MariaDB client headers + gcc, so pip can compile mysqlclient
#   server  mariadb-server + client, for the private local database (scripts/localdb.sh)
#   pgserver  PostgreSQL server binaries (initdb, postgres), for Airflow's metadata database in the
#             end-to-end suite (devtools/themepark_devtools/airflow_stack.py starts a private server of its own)
#   redis   redis-server, the Celery broker of the CeleryExecutor tests (tests/e2e/test_celery.py; the
#           stack starts a private server on a free port)
#   browser chromium, driven by playwright in the coverage view's browser test (tests/e2e/test_coverage_view.py;
#           playwright's own browser download is not used)
# Usage: scripts/system-deps.sh build|server|pgserver|redis|browser|all
set -euo pipefail

want=${1:-all}
missing=()

need_build() {
  local py=${PYTHON:-python3} ver
  if command -v "$py" >/dev/null 2>&1; then
    # Debian/Ubuntu name these after the interpreter's version (python3.11-venv, -dev).
    ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    "$py" -c 'import ensurepip, venv' 2>/dev/null || missing+=("python$ver-venv")
    [ -f "$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] || missing+=("python$ver-dev")
  fi
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  if ! pkg-config --exists libmariadb 2>/dev/null && ! pkg-config --exists mysqlclient 2>/dev/null; then
    missing+=(libmariadb-dev)
  fi
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
}

need_server() {
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
}

need_pgserver() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
}

need_redis() {
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
}

need_browser() {
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
}

case "$want" in
  build) need_build ;;
  server) need_server ;;
  pgserver) need_pgserver ;;
  redis) need_redis ;;
  browser) need_browser ;;
  all) need_build; need_server; need_pgserver; need_redis; need_browser ;;
  *) echo "usage: $0 build|server|pgserver|redis|browser|all" >&2; exit 2 ;;
esac

[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "system-deps: missing packages ${missing[*]} and not root; install them with:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# apt-get update only when the package lists are empty (a fresh machine): it costs seconds.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
  "${sudo[@]}" apt-get update -qq
fi
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
