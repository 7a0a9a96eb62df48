"""docker-compose.yaml, proven offline: no Docker engine runs here. The file is validated against
the Compose Specification schema, and what the deployment relies on is asserted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support import REPO

COMPOSE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_valid_against_the_compose_specification():
    tool = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    done = subprocess.run(
        [tool, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validator_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(
        COMPOSE.read_text().replace(
            'healthcheck:\n      test: ["CMD", "pg_isready"', 'healthcheck:\n      tests: ["CMD", "pg_isready"', 1
        )
    )
    tool = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    done = subprocess.run(
        [tool, "--builtin-schema", "vendor.compose-spec", str(broken)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0


def test_services_of_an_airflow_3_celery_deployment(compose):
    services = compose["services"]
    assert {
        "postgres",
        "redis",
        "themepark-db",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-worker",
        "airflow-triggerer",
        "airflow-init",
    } <= set(services)
    commands = {name: services[name].get("command") for name in services}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    assert commands["airflow-worker"] == "celery worker"
    # Workers scale with --scale airflow-worker=N: no fixed container name or host port.
    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert services["airflow-apiserver"]["image"].endswith("apache/airflow:3.3.2}")
    assert services["themepark-db"]["image"] == "mariadb:10.11"
    assert services["postgres"]["image"].startswith("postgres:")
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if name == "airflow-init":
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "healthcheck.sh" in compose["services"]["themepark-db"]["healthcheck"]["test"]


def test_tracker_connection_and_mounts(compose):
    for name, service in compose["services"].items():
        if not name.startswith("airflow-"):
            continue
        # "${AIRFLOW_PROJ_DIR:-.}/dags:/opt/airflow/dags[:ro]": the target follows the source's "}/x:".
        mounts = {re.search(r"\}/[a-z]+:(/[^:]+)", v).group(1) for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/sql"} <= mounts, name
        conn = service["environment"]["AIRFLOW_CONN_THEMEPARK_DB"]
        assert conn.startswith("mysql://") and "@themepark-db:3306/" in conn
        assert service["environment"]["THEMEPARK_SQL_DIR"] == "/opt/airflow/sql"
        assert service["depends_on"]["themepark-db"]["condition"] == "service_healthy"
    assert compose["volumes"].keys() >= {"themepark-db-volume", "postgres-db-volume"}


def test_secrets_come_from_env_and_the_example_names_them_all():
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert {"POSTGRES_PASSWORD", "THEMEPARK_DB_PASSWORD", "AIRFLOW__CORE__FERNET_KEY"} <= required
    example = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    )
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    assert all(
        example[name] == "change-me" for name in required if "PASSWORD" in name or "KEY" in name or "SECRET" in name
    )
    # No literal secret in the compose file: every password-ish value is a ${...} reference.
    for key, value in re.findall(r"^\s*([A-Z_]*(?:PASSWORD|SECRET|FERNET_KEY)[A-Z_]*):\s*(.+)$", text, re.M):
        assert value.strip().startswith("${"), f"{key} is not taken from the environment"
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
