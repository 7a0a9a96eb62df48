"""scripts/localdb.sh uses only the server it started: another MariaDB on the port is refused.

Each test has a private server of its own (THEMEPARK_LOCALDB_DIR in a temp dir, a free port) and a
throwaway "foreign" mariadbd started here, as another project or the system would run one; the
shared private server of the test session is not touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import MySQLdb
import pytest

from support import REPO

SCRIPT = str(REPO / "scripts" / "localdb.sh")

pytestmark = pytest.mark.skipif(
    not (shutil.which("mariadb-install-db") and (shutil.which("mariadbd") or os.path.exists("/usr/sbin/mariadbd"))),
    reason="needs mariadb-server (scripts/system-deps.sh server)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port: int) -> MySQLdb.Connection:
    return MySQLdb.connect(host="127.0.0.1", port=port, user="root", connect_timeout=2)


def wait_for_server(port: int, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    # A fresh mariadbd accepts connections about 0.1 s after its start; nothing signals it.
    deadline = time.monotonic() + timeout
    while True:
        try:
            connect(port).close()
            return
        except MySQLdb.OperationalError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"mariadbd on port {port} exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def contents(port: int) -> list[tuple]:
    """Every schema and table on the server, with row estimates: what a write would change."""
    with contextlib.closing(connect(port)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT s.schema_name, t.table_name FROM information_schema.schemata s"
            " LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name"
            " ORDER BY 1, 2"
        )
        return list(cur.fetchall())


@dataclass
class Foreign:
    port: int
    datadir: Path
    pid: int


@pytest.fixture
def foreign(tmp_path: Path) -> Iterator[Foreign]:
    """A MariaDB this project did not start: its own datadir, a free port."""
    base = tmp_path / "foreign"
    datadir = base / "data"
    base.mkdir()
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", *user,
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    server = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    proc = subprocess.Popen(
        [server, "--no-defaults", *user, f"--datadir={datadir}", f"--socket={base / 'sock'}",
         f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={base / 'pid'}",
         f"--log-error={base / 'err'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_server(port, proc)
        yield Foreign(port=port, datadir=datadir.resolve(), pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture
def own_dir(tmp_path: Path) -> Path:
    return tmp_path / "own"


def localdb(own_dir: Path, port: int, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, THEMEPARK_LOCALDB_DIR=str(own_dir), THEMEPARK_LOCALDB_PORT=str(port))
    return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def own(own_dir: Path) -> Iterator[int]:
    """This script's private server in a temp dir; yields its port."""
    port = free_port()
    started = localdb(own_dir, port, "start")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().endswith(f"127.0.0.1:{port}")
    try:
        yield port
    finally:
        localdb(own_dir, port, "stop")


def assert_refused(done: subprocess.CompletedProcess, foreign: Foreign) -> None:
    assert done.returncode != 0
    assert f"refusing port {foreign.port}" in done.stderr
    assert str(foreign.datadir) in done.stderr
    assert "127.0.0.1" not in done.stdout


def test_own_server_is_reused_and_reports_its_datadir(own_dir: Path, own: int) -> None:
    again = localdb(own_dir, own, "start")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"mysql://root@127.0.0.1:{own}"
    assert localdb(own_dir, own, "status").returncode == 0
    with contextlib.closing(connect(own)) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@datadir")
        assert Path(cur.fetchone()[0]).resolve() == (own_dir / "data").resolve()


def test_foreign_server_refused_while_own_runs_on_another_port(own_dir: Path, own: int, foreign: Foreign) -> None:
    before = contents(foreign.port)
    assert_refused(localdb(own_dir, foreign.port, "start"), foreign)
    assert localdb(own_dir, foreign.port, "status").returncode != 0
    assert contents(foreign.port) == before


def test_foreign_server_refused_when_own_is_not_running(own_dir: Path, foreign: Foreign) -> None:
    before = contents(foreign.port)
    assert_refused(localdb(own_dir, foreign.port, "start"), foreign)
    assert not (own_dir / "data").exists()
    assert contents(foreign.port) == before


def test_pidfile_naming_a_foreign_server_is_neither_trusted_nor_stopped(own_dir: Path, foreign: Foreign) -> None:
    # A stale pidfile whose pid now belongs to another MariaDB (e.g. after a reboot).
    own_dir.mkdir()
    (own_dir / "mysqld.pid").write_text(f"{foreign.pid}\n")
    before = contents(foreign.port)
    assert localdb(own_dir, foreign.port, "status").returncode != 0
    assert_refused(localdb(own_dir, foreign.port, "start"), foreign)
    stopped = localdb(own_dir, foreign.port, "stop")
    assert "not running" in stopped.stderr
    os.kill(foreign.pid, 0)  # still alive
    assert contents(foreign.port) == before


def test_make_demo_does_not_touch_a_foreign_server(own_dir: Path, own: int, foreign: Foreign) -> None:
    """The reported case: the private server runs, LOCALDB_PORT names another server."""
    before = contents(foreign.port)
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_THEMEPARK_DB"}
    env["THEMEPARK_LOCALDB_DIR"] = str(own_dir)
    done = subprocess.run(
        ["make", "--no-print-directory", "demo", f"LOCALDB_PORT={foreign.port}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_refused(done, foreign)
    assert "private MariaDB running" not in done.stdout
    assert contents(foreign.port) == before
