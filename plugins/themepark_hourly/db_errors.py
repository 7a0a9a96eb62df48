"""The MySQL/MariaDB error codes the package tells apart, and what each kind means for a retry.

One home for them: the aggregation retries conflicts in its transaction, the tasks decide which
errors Airflow's retries can cure (tasks/failures.py), migrations and rollbacks tolerate a
missing table.
"""

from __future__ import annotations

from themepark_hourly import config

# The same transaction may simply be tried again: the server has rolled it back, nothing was written.
RETRYABLE = {1213: "deadlock", 1205: "lock wait timeout"}
# The connection itself is gone (killed, server restarted, network): this task cannot go on, but
# nothing was committed, so Airflow's task retry is the way forward.
CONNECTION_LOST = {
    2006: "server has gone away",
    2013: "lost connection during query",
    1927: "connection killed",
    1053: "server shutdown in progress",
    2055: "lost connection",
}
# The data or the hour's size is wrong, not the moment: a value that does not fit its column
# (strict mode), or an hour larger than the staging cap.
REFUSED_INPUT = {
    1048: "a NULL where a value is required",
    1114: "the hour does not fit the in-memory staging cap",
    1264: "a value out of its column's range",
    1265: "a value truncated",
    1292: "an invalid date or number",
    1366: "an invalid value",
    1406: "a value too long for its column",
}
# Access denied, unknown database: the deployment's settings, not the moment.
NOT_ALLOWED = {
    1044: "access denied to the database",
    1045: "access denied for the user",
    1049: "unknown database",
    1142: "command denied on a table",
    1143: "command denied on a column",
}
NO_SUCH_TABLE = 1146


def error_code(exc: BaseException | None) -> int | None:
    """The server's or client's numeric error code of a MySQLdb / mysql-connector exception."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return getattr(exc, "errno", None)


def describe(exc: BaseException) -> str:
    """The error in words for a task log and aggregation_log: what it means for the hour's rows."""
    code = error_code(exc)
    args = getattr(exc, "args", ())
    text = args[1] if len(args) >= 2 and isinstance(args[0], int) else str(exc)
    if code in CONNECTION_LOST:
        return (
            f"the database connection was lost mid-transaction ({CONNECTION_LOST[code]}, error {code}: {text}); "
            "nothing was committed, the hour's previous rows are unchanged, and a task retry will redo it"
        )
    if code in RETRYABLE:
        return f"{RETRYABLE[code]} (error {code}: {text}) persisted after {config.conflict_retries()} retries"
    if code is not None:
        return f"database error {code}: {text}"
    return f"{type(exc).__name__}: {exc}"
