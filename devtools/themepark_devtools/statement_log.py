"""Every statement a database's sessions ran, with the rows the server examined and its time.

The server's slow query log, written to the table ``mysql.slow_log`` with ``long_query_time=0``,
records each statement of every session opened while it is on: its text, the database it ran in,
``rows_examined`` and ``query_time``, counted by the server itself. A count of rows read cannot be
fooled by a fast machine, so the rows-examined test holds the DAG to it, and the benchmark times a
whole DAG run (every task's statements) the same way.

Needs a user allowed to set global variables (SUPER, or SYSTEM_VARIABLES_ADMIN on MySQL). Sessions
already open keep their own ``long_query_time``: only those opened inside the block are logged.
The server's settings are put back when the block ends.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from themepark_hourly.sql_files import named_statements

SQL_FILE = "statement_log.sql"
SETTINGS = ("slow_query_log", "long_query_time", "log_output", "log_slow_admin_statements")
# How long a block waits for another one (a test, a benchmark) on the same server to end.
LOCK_WAIT_SECONDS = 900


@dataclass(frozen=True)
class Statement:
    sql: str
    rows_examined: int
    seconds: float

    @property
    def shape(self) -> str:
        """The statement with its literals and numbers blanked, so that runs of it group together."""
        text = re.sub(r"'(?:[^'\\]|\\.)*'", "?", self.sql)
        text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
        return " ".join(text.split())


@dataclass(frozen=True)
class StatementLog:
    statements: list[Statement]

    @property
    def rows_examined(self) -> int:
        return sum(s.rows_examined for s in self.statements)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.statements)

    def largest(self, count: int = 5) -> list[Statement]:
        return sorted(self.statements, key=lambda s: s.rows_examined, reverse=True)[:count]


class Recorder:
    """Reads what the log holds for one database; ``mark()`` starts a new window.

    ``user``: only the statements of sessions logged in as that user. The log tells databases
    apart, not clients: another client working in the same database (a benchmark under Airflow's
    scheduler) would otherwise be counted too.
    """

    def __init__(self, connect: Callable[[], Any], database: str, user: str | None = None) -> None:
        self._connect = connect
        self._database = database
        self._user = user
        self._since = self.mark()

    def mark(self) -> datetime:
        with contextlib.closing(self._connect()) as conn:
            cur = conn.cursor()
            cur.execute(named_statements(SQL_FILE)["now"])
            self._since = cur.fetchone()[0]
        return self._since

    def read(self, since: datetime | None = None) -> StatementLog:
        """The statements run in the database since ``since`` (default: the last mark)."""
        with contextlib.closing(self._connect()) as conn:
            cur = conn.cursor()
            # The server writes user_host as "user[user] @ host [ip]".
            user_prefix = None if self._user is None else f"{self._user}["
            cur.execute(
                named_statements(SQL_FILE)["read"],
                {"database": self._database, "since": since or self._since, "user_prefix": user_prefix},
            )
            return StatementLog([Statement(_text(t), int(rows), float(secs)) for t, rows, secs in cur.fetchall()])


    def read_settled(
        self, complete: Callable[[StatementLog], bool] = lambda _log: True, limit_seconds: float = 5.0
    ) -> StatementLog:
        """The log since the mark, once the server has written all of it.

        The server writes a statement's row after its client has the answer, so a read made at
        once can miss the last statements: poll until two reads agree and ``complete`` holds.
        """
        deadline = time.monotonic() + limit_seconds
        log = self.read()
        while True:
            time.sleep(0.05)  # the poll interval of a bounded wait for the server's log writes
            again = self.read()
            if (len(again.statements) == len(log.statements) and complete(again)) or time.monotonic() > deadline:
                return again
            log = again


@contextlib.contextmanager
def logged(connect: Callable[[], Any], database: str, user: str | None = None) -> Iterator[Recorder]:
    """Log every statement run in ``database`` by sessions opened inside the block (of ``user`` only, if given).

    ``connect()`` opens an administrative connection to the server (autocommit on). The server's
    settings come back when the block ends, whatever happens in it.
    """
    sql = named_statements(SQL_FILE)
    with contextlib.closing(connect()) as conn:
        cur = conn.cursor()
        # Blocks overlapping on one server would save each other's settings as the server's own,
        # and the last to end would leave every statement logged: one block at a time. The lock
        # is this connection's, released when it closes.
        cur.execute(sql["lock"], {"seconds": LOCK_WAIT_SECONDS})
        if cur.fetchone()[0] != 1:
            raise RuntimeError(f"another statement log block held the server for {LOCK_WAIT_SECONDS} s")
        cur.execute(sql["settings"])
        saved = {str(k).lower(): v for k, v in cur.fetchall()}
        cur.execute(sql["log_everything"])
        try:
            yield Recorder(connect, database, user)
        finally:
            cur.execute(sql["restore"], {name: saved[name] for name in SETTINGS})


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)
