"""Airflow's local-settings hook, for runs in this checkout's environment (scripts/env.sh puts
devtools/ on PYTHONPATH; deployments do not have it).

Airflow imports ``airflow_local_settings`` in each of its processes right after reading its
configuration and before it loads plugins or DAGs: early enough to drop the warnings that every
`airflow dags test`, `make dags-test` and `make demo` printed although nothing here can act on
them. Each filter matches one message and its category; every other warning still shows.
"""

from __future__ import annotations

import warnings

# Airflow copies every public name of this module into airflow.settings: there are none.
__all__: list[str] = []

# Airflow matches plugins/.airflowignore with pathspec's GitWildMatchPattern, which pathspec
# deprecates; the ignore file is needed (Airflow would import the package's modules as plugins).
warnings.filterwarnings(
    "ignore", message=r"GitWildMatchPattern \('gitwildmatch'\) is deprecated", category=DeprecationWarning
)
# `airflow dags test` and dag.test() serve the execution API in-process through FastAPI's
# TestClient, which warns about the httpx it is given (a starlette UserWarning subclass).
warnings.filterwarnings(
    "ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated", category=UserWarning
)
# The CLI's dag commands import the graph renderer; graphviz is only used to draw DAG images,
# which nothing here does.
warnings.filterwarnings("ignore", message=r"Could not import graphviz", category=UserWarning)
