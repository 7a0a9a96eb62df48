"""The plugin's preload: with plugins loaded at start-up, an Airflow process holds what tasks need.

Task processes are forked from such a process (the LocalExecutor's workers are forked from the
scheduler), so what it imported and parsed they do not pay for again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import REPO

TASKS = REPO / "plugins" / "themepark_hourly" / "tasks"

PROBE = """
import json, sys
import airflow  # loads the plugins here when [core] lazy_load_plugins is False
from themepark_hourly import sql_files
print(json.dumps({
    "tasks_modules": sorted(m for m in sys.modules if m.startswith("themepark_hourly.tasks.")),
    "mysql_hook": "airflow.providers.mysql.hooks.mysql" in sys.modules,
    "decorators": "airflow.sdk.definitions.decorators" in sys.modules,
    "sql_files_parsed": sql_files._parse_named.cache_info().currsize,
}))
"""


def _probe(lazy: str) -> dict:
    env = {
        **os.environ,
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": lazy,
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "PYTHONPATH": str(REPO / "plugins"),
    }
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_plugins_loaded_at_start_up_preload_the_tasks_modules_and_sql():
    warm = _probe("False")
    # Every module of the tasks package: a task body added without its preload fails here.
    every_task_module = sorted(f"themepark_hourly.tasks.{p.stem}" for p in TASKS.glob("*.py") if p.stem != "__init__")
    assert warm == {
        "tasks_modules": every_task_module,
        "mysql_hook": True,
        "decorators": True,
        "sql_files_parsed": 6,
    }


def test_lazy_plugins_preload_nothing_at_start_up():
    # Airflow's default: the same process has none of it until a task needs it.
    cold = _probe("True")
    assert cold == {"tasks_modules": [], "mysql_hook": False, "decorators": False, "sql_files_parsed": 0}
