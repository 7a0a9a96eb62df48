"""Test helpers for real database servers: create, connect to and drop test databases."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import MySQLdb

UTC_INIT = "SET time_zone = '+00:00'"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb"):
            raise ValueError(f"THEMEPARK_TEST_SERVER must be a mysql:// URL, got scheme {parts.scheme!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
        )

    def connect(self, database: str | None = None, **kwargs) -> MySQLdb.Connection:
        args = dict(host=self.host, port=self.port, user=self.user, passwd=self.password, init_command=UTC_INIT)
        if database:
            args["db"] = database
        args.update(kwargs)
        return MySQLdb.connect(**args)

    def url_for(self, database: str, user: str | None = None, password: str | None = None) -> str:
        user = self.user if user is None else user
        password = self.password if password is None else password
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        return f"mysql://{auth}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> TestDatabase:
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return TestDatabase(self, name)

    def client_command(self, database: str) -> tuple[list[str], dict[str, str]]:
        """The plain command-line client (mariadb or mysql) for ``database``, and its env."""
        binary = shutil.which("mariadb") or shutil.which("mysql")
        if not binary:
            raise RuntimeError("neither the mariadb nor the mysql client is installed")
        env = dict(os.environ, MYSQL_PWD=self.password)
        cmd = [binary, "--no-defaults", f"-h{self.host}", f"-P{self.port}", f"-u{self.user}", database]
        return cmd, env


@dataclass(frozen=True)
class TestDatabase:
    server: Server
    name: str

    @property
    def url(self) -> str:
        return self.server.url_for(self.name)

    def connect(self, **kwargs) -> contextlib.closing:
        return contextlib.closing(self.server.connect(self.name, **kwargs))

    def execute(self, sql: str, params=None) -> int:
        with self.connect() as conn, conn.cursor() as cur:
            count = cur.execute(sql, params)
            conn.commit()
            return count

    def executemany(self, sql: str, rows) -> None:
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(sql, rows)
            conn.commit()

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    @contextlib.contextmanager
    def table_hidden(self, table: str):
        """The table renamed away for the block (readers get error 1146), then put back."""
        self.execute(f"RENAME TABLE `{table}` TO `{table}_away`")
        try:
            yield
        finally:
            self.execute(f"RENAME TABLE `{table}_away` TO `{table}`")

    def run_client(self, sql_file: Path) -> subprocess.CompletedProcess:
        cmd, env = self.server.client_command(self.name)
        with open(sql_file, "rb") as stdin:
            return subprocess.run(cmd, stdin=stdin, env=env, capture_output=True, text=True, check=False)

    def schema(self) -> dict[str, str]:
        """SHOW CREATE TABLE of every table, auto-increment counters left out."""
        import re

        out = {}
        for (table,) in self.query("SHOW TABLES"):
            create = self.query(f"SHOW CREATE TABLE `{table}`")[0][1]
            out[table] = re.sub(r" AUTO_INCREMENT=\d+", "", create)
        return out

    def drop(self) -> None:
        with contextlib.closing(self.server.connect()) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
