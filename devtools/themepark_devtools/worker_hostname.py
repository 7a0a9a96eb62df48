"""The host name a Celery worker's task instances report, for several workers on one machine.

Airflow records the host a task instance ran on (its ``hostname``) from ``[core] hostname_callable``
(airflow/sdk/api/client.py, ``get_hostname``: the task's start and every heartbeat send it). In a
Compose deployment each worker is a container with a host name of its own; the Celery tests run
two workers on one machine, which would both report this machine's name. Each worker's
environment sets AIRFLOW__CORE__HOSTNAME_CALLABLE to ``hostname`` below and
THEMEPARK_WORKER_HOSTNAME to its own name (airflow_stack.py does), so the REST API tells them apart.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    """THEMEPARK_WORKER_HOSTNAME, or the machine's FQDN (Airflow's default) when it is not set."""
    return os.environ.get("THEMEPARK_WORKER_HOSTNAME") or socket.getfqdn()
