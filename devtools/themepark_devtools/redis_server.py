"""A private Redis server (Debian's ``redis-server``) on a free 127.0.0.1 port: the Celery broker
of the CeleryExecutor tests. The machine may run a Redis of its own on 6379; it is never used.

It runs as Compose's ``redis:7.2`` image runs it: Redis's default snapshot rules
(``save 3600 1 300 100 60 10000``) and a data directory that outlives a restart, so that a
``stop()`` (SIGTERM: Redis writes its snapshot and exits) then ``start()`` keeps the queued
messages, as ``docker compose restart redis`` would. ``kill()`` (SIGKILL) loses what was not
snapshotted, as a crashed container without a volume does.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from themepark_devtools import system_deps
from themepark_devtools.airflow_stack import StackError, _stop_group, _tail, free_port

SNAPSHOT_RULES = "3600 1 300 100 60 10000"  # Redis 7's built-in default, written out


def find_redis_server() -> str:
    """The redis-server binary; installed with apt by scripts/system-deps.sh redis when missing."""
    return system_deps.binary("redis-server", "redis", StackError)


class RedisServer:
    """``start()``, ``stop()``, ``kill()``; ``url`` is the broker URL (database 0)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.log_file = base / "redis.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:@127.0.0.1:{self.port}/0"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start (again, on the same port and data directory) and wait until it answers PING."""
        if self.proc is not None and self.proc.poll() is None:
            raise StackError(f"redis-server is already running (pid {self.proc.pid})")
        self.base.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - the server keeps it
        self.proc = subprocess.Popen(
            [find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.base),
             "--save", SNAPSHOT_RULES, "--appendonly", "no", "--daemonize", "no", "--logfile", ""],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.base, start_new_session=True,
        )  # fmt: skip
        log.close()
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    raise StackError(f"redis-server exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if client.ping():
                        return
                except redis.RedisError as exc:
                    if time.monotonic() > deadline:
                        raise StackError(f"redis-server did not answer in {timeout:.0f} s:\n{self.log_tail()}") from exc
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: Redis saves its snapshot, closes its clients and exits. Safe to call twice."""
        if self.proc is not None:
            _stop_group(self.proc, signal.SIGTERM, timeout=timeout)
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc, signal.SIGKILL, timeout=10)
            self.proc = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_file, lines)
