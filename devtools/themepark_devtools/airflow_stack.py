"""A real Airflow 3.3 deployment for end-to-end tests, driven only through the REST API and the CLI.

``AirflowStack`` starts, from the project's venv and in a temporary directory of its own:

- a private PostgreSQL server for Airflow's metadata (never SQLite: it answered a backfill POST
  with 503 "database is locked"), run as the ``postgres`` OS user when we are root (PostgreSQL
  refuses root), listening on a free 127.0.0.1 port and a Unix socket in the temp directory;
- ``airflow db migrate``, then ``airflow api-server``, ``scheduler``, ``dag-processor`` and
  ``triggerer`` as separate processes, each in its own process group (so one of them, e.g. the
  scheduler, can be stopped and started alone, and all of a component's children go with it).

Everything reads one environment (``stack.env``): a fresh AIRFLOW_HOME, this repo's dags/ and
plugins/, LocalExecutor with a small parallelism, the tracker connection AIRFLOW_CONN_THEMEPARK_DB,
THEMEPARK_* settings.

With ``celery_workers=("worker-1", "worker-2")`` it is docker-compose.yaml's deployment instead:
a private Redis (redis_server.py) as the broker, the file's ``x-airflow-common.environment``
(CeleryExecutor, broker, result backend, ...) read by compose_env.py with the services' addresses
swapped for the local ones, and one ``airflow celery worker`` process per name, each with its own
Celery node name (``celery@<name>``), log-server port and task-instance host name
(worker_hostname.py), as separate containers would have.

Logs of every process are files in the temp directory; every wait polls with a deadline and, on
timeout, raises with the tail of each log.

Auth is SimpleAuthManager's real login: a user ``admin`` whose password we write beforehand into
the password file the api-server reads, then ``POST /auth/token`` as the UI does.

Typical use (see tests/e2e/conftest.py)::

    stack = AirflowStack(tracker_db_url="mysql://root@127.0.0.1:3312/tph_e2e_x")
    try:
        stack.start()
        backfill = stack.create_backfill("2025-07-04T14:00:00Z", "2025-07-04T14:00:00Z")
        runs = stack.wait_for_backfill_runs(backfill["id"], count=1)
    finally:
        stack.stop()
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DAG_ID = "themepark_hourly_aggregation"

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# Components whose health /api/v2/monitor/health reports, by the key it uses.
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}

ADMIN_USER = "admin"
# Airflow 3.3's default auth manager; the stack's login (POST /auth/token) is its.
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


# Keys every structured task log line repeats; left out of task_log()'s text.
_LOG_CONTEXT_KEYS = frozenset(
    {"timestamp", "level", "event", "logger", "task_id", "map_index", "ti_id", "try_number", "run_id", "dag_id",
     "filename", "lineno"}
)  # fmt: skip


class StackError(RuntimeError):
    """Something in the stack failed or did not happen in time; the message has the logs' tails."""


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def iso(value: datetime | str | None) -> str | None:
    """An aware datetime (naive ones are UTC) or a string, as the API's ISO-8601 text."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _depth(proc: Any, root_pid: int) -> int:
    """How many parents up ``proc``'s root is (1: a child of it)."""
    depth, current = 0, proc
    while current is not None and current.pid != root_pid:
        depth += 1
        current = current.parent()
    return depth


def _process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_group(proc: subprocess.Popen, first_signal: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Stop the process group led by ``proc``: ``first_signal`` to the leader alone (as a service manager
    or a container runtime would; the scheduler then stops its own LocalExecutor workers), then SIGTERM
    to what is left of the group, then SIGKILL at the deadline. Returns once the whole group is gone."""
    pgid = proc.pid  # start_new_session=True: the leader's pid is the group id
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(first_signal)
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=max(0.0, timeout - 5))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _process_group_alive(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _process_group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)


class PostgresServer:
    """A throwaway PostgreSQL server: data dir and socket under ``base``, TCP on a free 127.0.0.1 port."""

    def __init__(self, base: Path, *, database: str = "airflow", user: str = "airflow") -> None:
        self.base = base
        self.database = database
        self.user = user
        self.port = free_port()
        self.data_dir = base / "data"
        self.socket_dir = base / "socket"
        self.log_file = base / "postgres.log"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def find_bin_dir() -> Path:
        def lookup() -> Path | None:
            found = sorted(
                glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
            )
            if found:
                return Path(found[-1]).parent
            initdb = shutil.which("initdb")
            return Path(initdb).parent if initdb else None

        bin_dir = lookup()
        if bin_dir is None:
            subprocess.run([str(REPO / "scripts" / "system-deps.sh"), "pgserver"], check=True)
            bin_dir = lookup()
        if bin_dir is None:
            raise StackError("no PostgreSQL server binaries (initdb) found after scripts/system-deps.sh pgserver")
        return bin_dir

    def _as_server_user(self) -> dict[str, Any]:
        """Popen arguments that drop root to the ``postgres`` user (PostgreSQL refuses to run as root)."""
        if os.geteuid() != 0:
            return {}
        import grp
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise StackError("running as root and there is no 'postgres' user to run PostgreSQL as") from exc
        for path in (self.base, self.data_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        self.log_file.touch()
        os.chown(self.log_file, pw.pw_uid, pw.pw_gid)
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [grp.getgrgid(pw.pw_gid).gr_gid]}

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 60.0) -> None:
        bin_dir = self.find_bin_dir()
        self.base.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        drop = self._as_server_user()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        with open(self.log_file, "ab") as log:
            done = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.user, "--auth=trust",
                 "-E", "UTF8", "--no-locale", "--no-sync"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.base, check=False, **drop,
            )  # fmt: skip
        if done.returncode != 0:
            raise StackError(f"initdb failed (exit {done.returncode}):\n{self.log_tail()}")
        log = open(self.log_file, "ab")  # noqa: SIM115 - the server keeps it
        self.proc = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), "-k", str(self.socket_dir),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=64MB"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=self.base,
            start_new_session=True, **drop,
        )  # fmt: skip
        log.close()
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise StackError(f"postgres exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres")
                break
            except psycopg2.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StackError(
                        f"postgres did not accept connections in {timeout:.0f} s:\n{self.log_tail()}"
                    ) from exc
                time.sleep(0.1)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to disconnect.
            _stop_group(self.proc, signal.SIGINT, timeout=30)
            self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_file, lines)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:])


class AirflowStack:
    """Airflow 3.3's real components against a private PostgreSQL, driven through REST and the CLI.

    ``tracker_db_url`` is the themepark tracker database (AIRFLOW_CONN_THEMEPARK_DB). ``start_date``
    becomes THEMEPARK_START_DATE (default: unset, the deployment's default: the scheduler starts at
    the latest settled hour, so unpausing the DAG
    creates no avalanche of catch-up runs; backfills are not limited by it). ``extra_env`` is added
    last and wins. THEMEPARK_* variables of the calling process pass through unless overridden.
    """

    def __init__(
        self,
        tracker_db_url: str,
        *,
        workdir: str | Path | None = None,
        parallelism: int = 8,
        celery_workers: Sequence[str] = (),
        worker_concurrency: int = 4,
        start_date: str | datetime | None = None,
        extra_env: dict[str, str] | None = None,
        extra_dag_files: list[Path] | None = None,
        users: dict[str, str] | None = None,
        dag_id: str = DAG_ID,
        startup_timeout: float = 240.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.dag_id = dag_id
        self.tracker_db_url = tracker_db_url
        self.startup_timeout = startup_timeout
        self.poll_interval = poll_interval
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="themepark-e2e-"))
        # PostgreSQL runs as another user: it must be able to reach its directories under ours.
        os.chmod(self.workdir, 0o755)
        self.airflow_home = self.workdir / "airflow-home"
        self.airflow_home.mkdir(exist_ok=True)
        self.log_dir = self.workdir / "logs"
        self.log_dir.mkdir(exist_ok=True)
        self.postgres = PostgresServer(self.workdir / "postgres")
        self.celery_workers = tuple(celery_workers)
        clash = set(self.celery_workers) & {*COMPONENTS, "postgres", "redis"}
        if clash or len(set(self.celery_workers)) != len(self.celery_workers):
            raise ValueError(f"worker names must be distinct and not those of other components: {celery_workers}")
        self.components = (*COMPONENTS, *self.celery_workers)
        self.worker_concurrency = worker_concurrency
        self.redis = None
        if self.celery_workers:
            from themepark_devtools.redis_server import RedisServer

            self.redis = RedisServer(self.workdir / "redis")
        # Per worker: the port its log server listens on (8793 for all of them by default).
        self.worker_log_ports = {name: free_port() for name in self.celery_workers}
        self.api_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.admin_password = secrets.token_urlsafe(16)
        # SimpleAuthManager's users beside the admin: name -> role ("viewer", "user", "op", "admin",
        # or "" for a user who may sign in and may see nothing).
        self.passwords = {ADMIN_USER: self.admin_password}
        self.roles = {ADMIN_USER: "admin"}
        for name, role in (users or {}).items():
            self.passwords[name] = secrets.token_urlsafe(16)
            self.roles[name] = role
        self.procs: dict[str, subprocess.Popen] = {}
        self._token: str | None = None
        self._client = httpx.Client(base_url=self.base_url, timeout=60.0)
        self.timings: dict[str, Any] = {}  # seconds; stop_<name>: a list, one per stop
        self.dags_folder = REPO / "dags"
        if extra_dag_files:
            # The project's DAG files and the extra ones (e.g. a test's consumer DAG), linked.
            self.dags_folder = self.workdir / "dags"
            self.dags_folder.mkdir(exist_ok=True)
            for path in [*sorted((REPO / "dags").glob("*.py")), *extra_dag_files]:
                (self.dags_folder / Path(path).name).symlink_to(Path(path).resolve())
        self.env = self._build_env(parallelism, iso(start_date), extra_env or {})

    # ------------------------------------------------------------------ environment

    def _build_env(self, parallelism: int, start_date: str | None, extra_env: dict[str, str]) -> dict[str, str]:
        from cryptography.fernet import Fernet

        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                # LocalExecutor starts this many worker processes up front (32 by default: ~1.8 GB).
                "AIRFLOW__CORE__PARALLELISM": str(parallelism),
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                # As docker-compose.yaml: plugins load at start-up, so the package's preload
                # (plugins/themepark_hourly/preload.py) is inherited by every forked task process.
                "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                # Separate processes must share these, or task tokens signed by one are refused by another.
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in self.roles.items()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.airflow_home / "passwords.json"),
                # New and changed DAG files show up within seconds, not the default 5 min / 30 s.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "2",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.airflow_home / "logs"),
                "AIRFLOW_CONN_THEMEPARK_DB": self.tracker_db_url,
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO / "plugins"), str(REPO / "devtools"), os.environ.get("PYTHONPATH", "")) if p
                ),
                "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        env.pop("THEMEPARK_START_DATE", None)
        if self.redis is not None:
            env.update(self._compose_env(env))
        if start_date is not None:
            env["THEMEPARK_START_DATE"] = start_date
        env.update(extra_env)
        return env

    def _compose_env(self, base: dict[str, str]) -> dict[str, str]:
        """docker-compose.yaml's x-airflow-common environment, for processes on this machine.

        Interpolated with this stack's secrets (what .env holds in a deployment), the services'
        addresses swapped for the local servers'. Replaced whole, and why:
        AIRFLOW_CONN_THEMEPARK_DB (the test's database, user and password differ, not only the
        host), THEMEPARK_SQL_DIR (a container path), AIRFLOW__CORE__AUTH_MANAGER (the file names
        FAB's, whose provider the project does not install: SimpleAuthManager, as the other e2e
        tests). The file's THEMEPARK_START_DATE (empty: unset) gives way to the stack's ``start_date``.
        """
        from themepark_devtools import compose_env

        assert self.redis is not None
        variables = {
            "POSTGRES_PASSWORD": "unused-trust-auth",  # the private PostgreSQL trusts local connections
            "AIRFLOW__CORE__FERNET_KEY": base["AIRFLOW__CORE__FERNET_KEY"],
            "AIRFLOW__API_AUTH__JWT_SECRET": base["AIRFLOW__API_AUTH__JWT_SECRET"],
            "THEMEPARK_DB_PASSWORD": "replaced-below",
        }
        hosts = {
            "postgres": f"127.0.0.1:{self.postgres.port}",
            "redis:6379": self.redis.address,
            "airflow-apiserver:8080": f"127.0.0.1:{self.api_port}",
        }
        env = compose_env.local_env(
            variables,
            hosts,
            replace={
                "AIRFLOW_CONN_THEMEPARK_DB": self.tracker_db_url,
                "THEMEPARK_SQL_DIR": str(REPO / "sql"),
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            },
        )
        # The scheduler's health server (the compose healthcheck's :8974) on a free port.
        env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(free_port())
        return env

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> AirflowStack:
        """PostgreSQL, ``airflow db migrate``, the four components; returns once all are healthy and logged in."""
        t0 = time.monotonic()
        self.postgres.start()
        self.timings["postgres"] = time.monotonic() - t0
        if self.redis is not None:
            self.redis.start()
        t1 = time.monotonic()
        self.cli("db", "migrate", timeout=self.startup_timeout)
        self.timings["db_migrate"] = time.monotonic() - t1
        (self.airflow_home / "passwords.json").write_text(json.dumps(self.passwords))
        for name in self.components:
            self.start_component(name)
        self.wait_healthy()
        if self.celery_workers:
            self.wait_for_workers(self.celery_workers)
        self.login()
        self.timings["startup"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stop every component (SIGTERM, SIGKILL after a bounded wait), then PostgreSQL. Safe to call twice."""
        errors = []
        # SIGTERM to every component first, then wait: the triggerer alone takes about 10 s to stop.
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for name in reversed(list(self.procs)):
            try:
                self.stop_component(name)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                errors.append(f"{name}: {exc!r}")
        if self.redis is not None:
            try:
                self.redis.stop()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"redis: {exc!r}")
        try:
            t0 = time.monotonic()
            self.postgres.stop()
            self.timings["stop_postgres"] = [round(time.monotonic() - t0, 1)]
        except Exception as exc:  # noqa: BLE001
            errors.append(f"postgres: {exc!r}")
        self._client.close()
        if errors:
            raise StackError("stopping the stack: " + "; ".join(errors))

    def cleanup(self) -> None:
        """Remove the temp directory (logs included) if the stack created it."""
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _command(self, name: str) -> list[str]:
        if name in self.celery_workers:
            # docker-compose.yaml's `command: celery worker`; the node name a container's would be.
            return ["celery", "worker", "--celery-hostname", f"celery@{name}", "--concurrency",
                    str(self.worker_concurrency)]  # fmt: skip
        return [name]

    def _component_env(self, name: str) -> dict[str, str]:
        if name not in self.celery_workers:
            return self.env
        return {
            **self.env,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "themepark_devtools.worker_hostname.hostname",
            "THEMEPARK_WORKER_HOSTNAME": name,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.worker_log_ports[name]),
        }

    def start_component(self, name: str) -> None:
        if name not in self.components:
            raise ValueError(f"unknown component {name!r}; one of {self.components}")
        if name in self.procs and self.procs[name].poll() is None:
            raise StackError(f"{name} is already running (pid {self.procs[name].pid})")
        command = self._command(name)
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - the child keeps it
        log.write(f"\n===== starting airflow {' '.join(command)} at {datetime.now(UTC).isoformat()} =====\n".encode())
        log.flush()
        self.procs[name] = subprocess.Popen(
            [str(VENV_BIN / "airflow"), *command],
            env=self._component_env(name),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def stop_component(self, name: str, timeout: float = 30.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            t0 = time.monotonic()
            _stop_group(proc, signal.SIGTERM, timeout=timeout)
            self.timings.setdefault(f"stop_{name}", [])
            self.timings[f"stop_{name}"].append(round(time.monotonic() - t0, 1))

    def kill_component(self, name: str) -> None:
        """SIGKILL the component's whole process group at once (a machine or container lost: a Celery
        worker's pool processes and their task processes go with it, nothing runs its shutdown code)."""
        proc = self.procs.pop(name)
        _stop_group(proc, signal.SIGKILL, timeout=10)

    def stop_scheduler(self, timeout: float = 30.0) -> None:
        """Stop the scheduler alone (with its LocalExecutor workers and their task processes)."""
        self.stop_component("scheduler", timeout=timeout)

    def start_scheduler(self, wait: bool = True) -> None:
        """Start the scheduler again; by default wait until /monitor/health reports it healthy."""
        self.start_component("scheduler")
        if wait:
            self.wait_healthy(components=("scheduler",), fresh_since=time.time())

    def restart_scheduler(self) -> None:
        self.stop_scheduler()
        self.start_scheduler()

    def running(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self.procs.items()}

    # ------------------------------------------------------------------ logs and diagnostics

    def log_path(self, name: str) -> Path:
        if name == "postgres":
            return self.postgres.log_file
        if name == "redis" and self.redis is not None:
            return self.redis.log_file
        return self.log_dir / f"{name}.log"

    def logs_tail(self, lines: int = 25) -> str:
        parts = []
        for name in (*self.components, *(("redis",) if self.redis else ()), "postgres"):
            state = ""
            if name in self.procs:
                code = self.procs[name].poll()
                state = " (running)" if code is None else f" (exited {code})"
            parts.append(f"----- {name}{state}: {self.log_path(name)}\n{_tail(self.log_path(name), lines)}")
        return "\n".join(parts)

    def memory_rss(self, pss: bool = False) -> dict[str, int]:
        """Resident memory in bytes per component (its whole process group), and of PostgreSQL.

        RSS counts pages shared by forked children (LocalExecutor workers) once per process; with
        ``pss=True`` each shared page is divided among its sharers (proportional set size), which
        adds up to what the stack really occupies.
        """
        import psutil

        groups = {proc.pid: name for name, proc in self.procs.items()}
        if self.postgres.proc is not None:
            groups[self.postgres.proc.pid] = "postgres"
        if self.redis is not None and self.redis.proc is not None:
            groups[self.redis.proc.pid] = "redis"
        out = dict.fromkeys(groups.values(), 0)
        for p in psutil.process_iter(["pid"]):
            try:
                name = groups.get(os.getpgid(p.pid))
                if name:
                    out[name] += p.memory_full_info().pss if pss else p.memory_info().rss
            except (psutil.Error, ProcessLookupError):
                continue
        return out

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far, per part of the stack; differences between two
        calls are what the stack spent meanwhile.

        Each part is a process tree: a process's reaped children are in its children_* times and
        live ones are counted themselves, so nothing is counted twice (by tree, not by process
        group: PostgreSQL's backends leave their postmaster's group). The scheduler's tree is split
        into the scheduler itself, the LocalExecutor's workers (each the task SDK's supervisor of
        the tasks it runs) and the task processes they fork.
        """
        import psutil

        roots = {name: proc.pid for name, proc in self.procs.items()}
        if self.postgres.proc is not None:
            roots["postgres (metadata)"] = self.postgres.proc.pid
        out: dict[str, float] = {}

        def add(part: str, value: float) -> None:
            out[part] = out.get(part, 0.0) + value

        for name, pid in roots.items():
            try:
                root = psutil.Process(pid)
                tree = [(root, 0)] + [(c, _depth(c, pid)) for c in root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc, depth in tree:
                try:
                    t = proc.cpu_times()
                except psutil.Error:
                    continue
                own, children = t.user + t.system, t.children_user + t.children_system
                if name != "scheduler":
                    add(name, own + children)
                elif depth == 0:
                    add("scheduler", own)  # its children (the workers) are alive and counted below
                elif depth == 1:
                    add("executor workers (supervisors)", own)
                    add("task processes", children)
                else:
                    add("task processes", own + children)
        return out

    # ------------------------------------------------------------------ polling

    def poll(
        self,
        fn: Callable[[], Any],
        *,
        timeout: float,
        what: str,
        interval: float | None = None,
        check_processes: bool = True,
    ) -> Any:
        """Call ``fn`` until it returns something truthy; StackError with the logs at the deadline.

        Also fails early when a component this stack started has died.
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = fn()
            except (httpx.TransportError, StackError) as exc:
                last = exc
            else:
                if last:
                    return last
            if check_processes:
                dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
                if dead:
                    raise StackError(f"while waiting for {what}: components exited {dead}\n{self.logs_tail()}")
            if time.monotonic() > deadline:
                raise StackError(
                    f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}\n{self.logs_tail()}"
                )
            time.sleep(self.poll_interval if interval is None else interval)

    def health(self) -> dict:
        return self._client.get("/api/v2/monitor/health").raise_for_status().json()

    def wait_healthy(
        self, components: Iterable[str] = ("scheduler", "dag-processor", "triggerer"), fresh_since: float | None = None,
        timeout: float | None = None,
    ) -> dict:  # fmt: skip
        """Poll /api/v2/monitor/health until the metadatabase and ``components`` are healthy.

        ``fresh_since`` (epoch seconds): also require the components' latest heartbeat after it, so a
        restarted scheduler is not taken for healthy on the heartbeat of the one that was stopped.
        """
        keys = [HEALTH_KEYS[c] for c in components]

        def ok():
            info = self.health()
            if info.get("metadatabase", {}).get("status") != "healthy":
                return None
            for key in keys:
                part = info.get(key) or {}
                if part.get("status") != "healthy":
                    return None
                if fresh_since is not None:
                    beat = part.get(f"latest_{key}_heartbeat") or part.get("latest_heartbeat")
                    if not beat or datetime.fromisoformat(beat).timestamp() < fresh_since:
                        return None
            return info

        return self.poll(ok, timeout=timeout or self.startup_timeout, what=f"healthy {', '.join(components)}")

    # ------------------------------------------------------------------ Celery workers

    def celery_ping(self, names: Iterable[str] | None = None, timeout: float = 2.0) -> set[str]:
        """The workers (by name) that answer a Celery ping through the broker: what
        docker-compose.yaml's worker healthcheck asks (``celery inspect ping -d celery@<host>``).
        None while the broker is down."""
        if self.redis is None:
            raise StackError("this stack runs no Celery workers")
        import redis
        from celery import Celery
        from kombu.exceptions import OperationalError

        names = list(self.celery_workers if names is None else names)
        app = Celery(broker=self.redis.url)
        try:
            replies = app.control.ping(destination=[f"celery@{n}" for n in names], timeout=timeout) or []
        except (OSError, OperationalError, redis.RedisError):
            replies = []  # no broker: no worker can be reached
        finally:
            app.close()
        answered = {node for reply in replies for node in reply}
        return {n for n in names if f"celery@{n}" in answered}

    def wait_for_workers(self, names: Iterable[str], timeout: float | None = None) -> None:
        """Poll until every named worker answers the ping (about 10-20 s after its start here)."""
        names = set(names)
        self.poll(
            lambda: self.celery_ping(names) == names,
            timeout=timeout or self.startup_timeout,
            what=f"Celery workers {sorted(names)} to answer a ping",
            interval=1.0,
        )

    # ------------------------------------------------------------------ REST

    def login(self) -> str:
        """The admin's login, as the UI does it: the bearer token the stack's requests use."""
        self._token = self.token_for(ADMIN_USER)
        return self._token

    def token_for(self, user: str) -> str:
        """A bearer token of one of the stack's users, from SimpleAuthManager's POST /auth/token."""
        resp = self._client.post("/auth/token", json={"username": user, "password": self.passwords[user]})
        if resp.status_code not in (200, 201):
            raise StackError(f"POST /auth/token as {user}: {resp.status_code} {resp.text}\n{self.logs_tail()}")
        return resp.json()["access_token"]

    def request(self, method: str, path: str, *, expect: Iterable[int] | None = None, **kwargs) -> httpx.Response:
        """An authenticated request; raises StackError unless the status is in ``expect`` (default: 2xx)."""
        if self._token is None:
            self.login()
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        resp = self._client.request(method, path, headers=headers, **kwargs)
        if resp.status_code == 401:  # expired token: log in again once
            self.login()
            headers["Authorization"] = f"Bearer {self._token}"
            resp = self._client.request(method, path, headers=headers, **kwargs)
        ok = resp.status_code in set(expect) if expect is not None else resp.is_success
        if not ok:
            raise StackError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:2000]}")
        return resp

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, json_body: Any = None, **kwargs) -> Any:
        resp = self.request("POST", path, json=json_body, **kwargs)
        return resp.json() if resp.content else None

    def patch(self, path: str, json_body: Any = None, **kwargs) -> Any:
        resp = self.request("PATCH", path, json=json_body, **kwargs)
        return resp.json() if resp.content else None

    def delete(self, path: str, **kwargs) -> None:
        self.request("DELETE", path, **kwargs)

    # ------------------------------------------------------------------ DAGs

    def import_errors(self) -> list[dict]:
        return self.get("/api/v2/importErrors")["import_errors"]

    def get_dag(self, dag_id: str | None = None) -> dict:
        return self.get(f"/api/v2/dags/{dag_id or self.dag_id}")

    def wait_for_dag(self, dag_id: str | None = None, timeout: float = 120.0) -> dict:
        """Poll GET /api/v2/dags/{id} until the dag-processor has parsed it; fails at once on an import error."""
        dag_id = dag_id or self.dag_id

        def parsed():
            errors = self.import_errors()
            if errors:
                raise AssertionError(f"import errors while waiting for {dag_id}: {errors}")
            resp = self.request("GET", f"/api/v2/dags/{dag_id}", expect=(200, 404))
            return resp.json() if resp.status_code == 200 else None

        return self.poll(parsed, timeout=timeout, what=f"DAG {dag_id} to be parsed")

    def set_paused(self, paused: bool, dag_id: str | None = None) -> dict:
        return self.patch(f"/api/v2/dags/{dag_id or self.dag_id}", {"is_paused": paused})

    def unpause(self, dag_id: str | None = None) -> dict:
        return self.set_paused(False, dag_id)

    def pause(self, dag_id: str | None = None) -> dict:
        return self.set_paused(True, dag_id)

    # ------------------------------------------------------------------ runs

    def trigger_run(
        self,
        logical_date: datetime | str | None = None,
        *,
        dag_id: str | None = None,
        run_id: str | None = None,
        conf: dict | None = None,
        data_interval: tuple[datetime | str, datetime | str] | None = None,
        **extra: Any,
    ) -> dict:
        """POST /api/v2/dags/{id}/dagRuns. ``logical_date=None`` is the UI's trigger without a date."""
        body: dict[str, Any] = {"logical_date": iso(logical_date), "conf": conf or {}, **extra}
        if run_id:
            body["dag_run_id"] = run_id
        if data_interval:
            body["data_interval_start"], body["data_interval_end"] = (iso(d) for d in data_interval)
        return self.post(f"/api/v2/dags/{dag_id or self.dag_id}/dagRuns", body)

    def get_run(self, run_id: str, *, dag_id: str | None = None) -> dict:
        return self.get(f"/api/v2/dags/{dag_id or self.dag_id}/dagRuns/{run_id}")

    def list_runs(self, *, dag_id: str | None = None, limit: int | None = None, **filters: Any) -> list[dict]:
        """GET /api/v2/dags/{id}/dagRuns, oldest logical date first; ``filters`` are the API's query
        parameters (``run_type``, ``state``, ``logical_date_gte`` ...). Every page, unless ``limit``
        caps the count (the API answers at most 100 a page)."""
        runs: list[dict] = []
        while limit is None or len(runs) < limit:
            page = min(100, limit - len(runs)) if limit is not None else 100
            params = {"limit": page, "offset": len(runs), "order_by": "logical_date", **filters}
            found = self.get(f"/api/v2/dags/{dag_id or self.dag_id}/dagRuns", params=params)["dag_runs"]
            runs.extend(found)
            if len(found) < page:
                break
        return runs

    def wait_for_run(
        self,
        run_id: str,
        states: Iterable[str] = TERMINAL_RUN_STATES,
        *,
        dag_id: str | None = None,
        timeout: float = 180.0,
    ) -> dict:
        """Poll the run until its state is one of ``states``; returns the run."""
        states = frozenset(states)

        def reached():
            run = self.get_run(run_id, dag_id=dag_id)
            return run if run["state"] in states else None

        return self.poll(reached, timeout=timeout, what=f"run {run_id} to reach {sorted(states)}")

    def wait_for_runs(
        self,
        count: int,
        states: Iterable[str] = TERMINAL_RUN_STATES,
        *,
        dag_id: str | None = None,
        timeout: float = 300.0,
        **filters: Any,
    ) -> list[dict]:
        """Poll until at least ``count`` runs matching ``filters`` exist and all of them are in ``states``."""
        states = frozenset(states)

        def reached():
            runs = self.list_runs(dag_id=dag_id, **filters)
            if len(runs) >= count and all(r["state"] in states for r in runs):
                return runs
            return None

        return self.poll(reached, timeout=timeout, what=f"{count} runs {filters or ''} in {sorted(states)}")

    def clear_run(self, run_id: str, *, dag_id: str | None = None, only_failed: bool = False) -> Any:
        """POST .../dagRuns/{run_id}/clear (not a dry run): the UI's "Clear run"; the run is queued again."""
        return self.post(
            f"/api/v2/dags/{dag_id or self.dag_id}/dagRuns/{run_id}/clear",
            {"dry_run": False, "only_failed": only_failed},
        )

    # ------------------------------------------------------------------ backfills

    def create_backfill(
        self,
        from_date: datetime | str,
        to_date: datetime | str,
        *,
        dag_id: str | None = None,
        reprocess_behavior: str = "none",
        max_active_runs: int = 10,
        run_backwards: bool = False,
        dag_run_conf: dict | None = None,
    ) -> dict:
        """POST /api/v2/backfills: the UI's backfill dialog. Returns the backfill (its ``id``).

        Its runs start only while the DAG is unpaused (see ``unpause``). Airflow allows one active
        backfill per DAG (409 otherwise), and the scheduler marks a backfill completed only every 30 s
        (``_mark_backfills_complete`` in jobs/scheduler_job_runner.py): before the next backfill of the
        same DAG, ``wait_for_backfill`` the previous one.
        """
        body = {
            "dag_id": dag_id or self.dag_id,
            "from_date": iso(from_date),
            "to_date": iso(to_date),
            "reprocess_behavior": reprocess_behavior,
            "max_active_runs": max_active_runs,
            "run_backwards": run_backwards,
        }
        if dag_run_conf is not None:
            body["dag_run_conf"] = dag_run_conf
        return self.post("/api/v2/backfills", body)

    def get_backfill(self, backfill_id: int) -> dict:
        return self.get(f"/api/v2/backfills/{backfill_id}")

    def backfill_runs(self, backfill_id: int) -> list[dict]:
        """The backfill's runs. The API exposes no run's backfill id: these are the DAG's backfill runs
        whose logical date (run_after when it has none) is in the backfill's [from_date, to_date], which
        is how Airflow picks the runs of a backfill (models/backfill.py). A reprocessed run of an
        earlier backfill of the same hours is the same run, so it is listed too."""
        backfill = self.get_backfill(backfill_id)
        lo, hi = (datetime.fromisoformat(backfill[k]) for k in ("from_date", "to_date"))

        def inside(run: dict) -> bool:
            when = run.get("logical_date") or run.get("run_after")
            return bool(when) and lo <= datetime.fromisoformat(when) <= hi

        return [r for r in self.list_runs(dag_id=backfill["dag_id"], run_type="backfill") if inside(r)]

    def wait_for_backfill_runs(
        self,
        backfill_id: int,
        count: int,
        states: Iterable[str] = TERMINAL_RUN_STATES,
        *,
        timeout: float = 300.0,
    ) -> list[dict]:
        """Poll until the backfill has ``count`` runs, all in ``states`` (faster than wait_for_backfill:
        the scheduler marks a backfill completed some seconds after its last run ends)."""
        states = frozenset(states)

        def reached():
            runs = self.backfill_runs(backfill_id)
            return runs if len(runs) >= count and all(r["state"] in states for r in runs) else None

        return self.poll(reached, timeout=timeout, what=f"{count} runs of backfill {backfill_id} in {sorted(states)}")

    def wait_for_backfill(self, backfill_id: int, *, timeout: float = 300.0) -> dict:
        """Poll GET /api/v2/backfills/{id} until the scheduler marks it completed (all its runs done)."""

        def completed():
            backfill = self.get_backfill(backfill_id)
            return backfill if backfill.get("completed_at") else None

        return self.poll(completed, timeout=timeout, what=f"backfill {backfill_id} to complete")

    # ------------------------------------------------------------------ task instances

    def task_instances(self, run_id: str, *, dag_id: str | None = None) -> list[dict]:
        return self.get(f"/api/v2/dags/{dag_id or self.dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def task_states(self, run_id: str, *, dag_id: str | None = None) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(run_id, dag_id=dag_id)}

    def task_log(self, run_id: str, task_id: str, try_number: int = 1, *, dag_id: str | None = None) -> str:
        """The task instance's log as text, through GET .../taskInstances/{task}/logs/{try} (what the UI shows)."""
        data = self.get(
            f"/api/v2/dags/{dag_id or self.dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        lines = []
        for entry in data.get("content", []):
            if isinstance(entry, dict):
                extra = {k: v for k, v in entry.items() if k not in _LOG_CONTEXT_KEYS}
                line = " ".join(str(entry.get(k, "")) for k in ("timestamp", "level", "event") if entry.get(k))
                if extra:
                    line += " " + json.dumps(extra, default=str)
                lines.append(line)
            else:
                lines.append(str(entry))
        return "\n".join(lines)

    # ------------------------------------------------------------------ CLI

    def cli(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """``airflow *args`` with the stack's environment; output captured; StackError on failure if ``check``."""
        done = subprocess.run(
            [str(VENV_BIN / "airflow"), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and done.returncode != 0:
            raise StackError(
                f"airflow {' '.join(args)} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\n"
                f"stderr:\n{done.stderr[-3000:]}"
            )
        return done
