"""docker-compose.yaml's Airflow environment, made runnable on this machine.

The Celery tests run the compose file's topology as local processes; they take Airflow's settings
from the file's ``x-airflow-common.environment`` so the file and the tests cannot drift apart.
Two things have to change on the way, and nothing else:

- ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` are interpolated as Compose does, from
  the ``variables`` given (what ``.env`` holds in a deployment: passwords, keys);
- the compose services' host names and ports (``postgres``, ``redis:6379``,
  ``airflow-apiserver:8080``, ``themepark-db:3306``) become the local servers' addresses, given
  in ``hosts``. A value still naming a compose service afterwards is an error: a new service or
  URL in the file must be given a local address here, not silently point nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
# A compose service in a URL: "//name:port/", "@name/", "@name:port/" (the authority part).
_AUTHORITY = re.compile(r"(?P<lead>//|@)(?P<host>[A-Za-z][A-Za-z0-9_.-]*)(?::(?P<port>\d+))?(?=[/?#]|$)")


class ComposeEnvError(ValueError):
    """The compose file's environment cannot be made local as asked."""


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def airflow_common_env(compose: dict[str, Any] | None = None) -> dict[str, str]:
    """The raw ``x-airflow-common.environment`` block (values as written, not interpolated)."""
    compose = compose if compose is not None else load()
    env = compose["x-airflow-common"]["environment"]
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's variable interpolation of one value (the forms docker-compose.yaml uses)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        present = name in variables
        empty = present and variables[name] == ""
        if op in (":-", "-"):
            unset = not present or (op == ":-" and empty)
            return arg if unset else variables[name]
        if op in (":?", "?"):
            if not present or (op == ":?" and empty):
                raise ComposeEnvError(f"{name}: {arg}")
            return variables[name]
        return variables.get(name, "")

    return _VARIABLE.sub(one, value)


def swap_hosts(value: str, hosts: dict[str, str]) -> str:
    """Replace compose service addresses in URLs: ``hosts`` maps ``service`` or ``service:port`` to
    ``host:port``. ``service:port`` wins over ``service``; a service named without a port in the
    value (``@postgres/airflow``) matches the ``service`` key."""

    def one(match: re.Match[str]) -> str:
        host, port = match.group("host"), match.group("port")
        key = f"{host}:{port}" if port and f"{host}:{port}" in hosts else host
        if key not in hosts:
            return match.group(0)
        return f"{match.group('lead')}{hosts[key]}"

    return _AUTHORITY.sub(one, value)


def service_hosts(compose: dict[str, Any]) -> set[str]:
    return set(compose.get("services", {}))


def local_env(
    variables: dict[str, str],
    hosts: dict[str, str],
    *,
    compose: dict[str, Any] | None = None,
    replace: dict[str, str] | None = None,
) -> dict[str, str]:
    """``x-airflow-common.environment`` interpolated with ``variables``, service addresses swapped
    for ``hosts``; ``replace`` sets whole values instead (each key must exist in the file, so a
    renamed setting fails here). Raises ComposeEnvError when a value still names a service."""
    compose = compose if compose is not None else load()
    raw = airflow_common_env(compose)
    replace = replace or {}
    unknown = set(replace) - set(raw)
    if unknown:
        raise ComposeEnvError(f"not in x-airflow-common.environment: {sorted(unknown)}")
    services = service_hosts(compose)
    out = {}
    for key, value in raw.items():
        if key in replace:
            out[key] = replace[key]
            continue
        local = swap_hosts(interpolate(value, variables), hosts)
        for match in _AUTHORITY.finditer(local):
            if match.group("host") in services:
                raise ComposeEnvError(f"{key} still names compose service {match.group('host')!r}: {local}")
        out[key] = local
    return out
