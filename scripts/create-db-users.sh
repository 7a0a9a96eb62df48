#!/usr/bin/env bash
# Prints the SQL that creates the two least-privilege users of themepark-hourly; review it, then
# pipe it into the client as an administrator:
#
#   scripts/create-db-users.sh --database themepark --dag-user themepark_dag --dag-password 'xxx' \
#       --migrate-user themepark_migrate --migrate-password 'yyy' | mariadb -uroot
#
# dag user      (AIRFLOW_CONN_THEMEPARK_DB): reads the source tables, writes the hourly tables,
#               aggregation_log and the late-data search's marks, creates temporary staging
#               tables. No DDL.
# migrate user  (THEMEPARK_MIGRATE_CONN_ID, optional): DDL on the database, for the migrate task.
# --host limits where they may connect from (default '%'). Works on MariaDB 10.6+ and MySQL 8.0+.
# The dag user's grants name tables that migrations create, which must exist first: run the
# migrations once as the migrate user or an administrator (the DAG's migrate task does), then this.
set -euo pipefail

database="" dag_user="" dag_password="" migrate_user="" migrate_password="" host="%"
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database=$2; shift 2 ;;
    --dag-user) dag_user=$2; shift 2 ;;
    --dag-password) dag_password=$2; shift 2 ;;
    --migrate-user) migrate_user=$2; shift 2 ;;
    --migrate-password) migrate_password=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

ident='^[A-Za-z0-9_]{1,32}$'
for pair in "database:$database" "dag-user:$dag_user"; do
  [[ "${pair#*:}" =~ $ident ]] || { echo "--${pair%%:*} must be 1-32 letters, digits or _" >&2; exit 2; }
done
[ -z "$migrate_user" ] || [[ "$migrate_user" =~ $ident ]] || { echo "--migrate-user must be 1-32 letters, digits or _" >&2; exit 2; }
[[ "$host" =~ ^[A-Za-z0-9_.%:-]{1,255}$ ]] || { echo "--host has characters a host name cannot have" >&2; exit 2; }
[ -n "$dag_password" ] || { echo "--dag-password is required" >&2; exit 2; }
[ -z "$migrate_user" ] || [ -n "$migrate_password" ] || { echo "--migrate-password is required with --migrate-user" >&2; exit 2; }

quote() { # an SQL string literal
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\'\'}"
}

if [ -n "$migrate_user" ]; then
cat <<SQL
CREATE USER IF NOT EXISTS '$migrate_user'@'$host' IDENTIFIED BY $(quote "$migrate_password");
GRANT SELECT, INSERT, UPDATE, CREATE, ALTER, INDEX, DROP, REFERENCES ON \`$database\`.* TO '$migrate_user'@'$host';
SQL
fi
cat <<SQL
CREATE USER IF NOT EXISTS '$dag_user'@'$host' IDENTIFIED BY $(quote "$dag_password");
GRANT SELECT ON \`$database\`.parks TO '$dag_user'@'$host';
GRANT SELECT ON \`$database\`.rides TO '$dag_user'@'$host';
GRANT SELECT ON \`$database\`.ride_classifications TO '$dag_user'@'$host';
GRANT SELECT ON \`$database\`.ride_status_snapshots TO '$dag_user'@'$host';
GRANT SELECT ON \`$database\`.park_activity_snapshots TO '$dag_user'@'$host';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$database\`.ride_hourly_stats TO '$dag_user'@'$host';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$database\`.park_hourly_stats TO '$dag_user'@'$host';
GRANT SELECT, INSERT, UPDATE ON \`$database\`.aggregation_log TO '$dag_user'@'$host';
GRANT SELECT, INSERT, UPDATE ON \`$database\`.themepark_late_data_marks TO '$dag_user'@'$host';
GRANT SELECT ON \`$database\`.themepark_schema_migrations TO '$dag_user'@'$host';
GRANT CREATE TEMPORARY TABLES ON \`$database\`.* TO '$dag_user'@'$host';
SQL
