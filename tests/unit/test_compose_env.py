"""compose_env.py: docker-compose.yaml's Airflow environment made local (used by tests/e2e/test_celery.py)."""

from __future__ import annotations

import pytest

from themepark_devtools import compose_env
from themepark_devtools.compose_env import ComposeEnvError, interpolate, swap_hosts

LOCAL = {"postgres": "127.0.0.1:5001", "redis:6379": "127.0.0.1:5002", "airflow-apiserver:8080": "127.0.0.1:5003"}
SECRETS = {"POSTGRES_PASSWORD": "pw", "AIRFLOW__CORE__FERNET_KEY": "fk", "AIRFLOW__API_AUTH__JWT_SECRET": "js"}


def test_interpolation_follows_compose():
    values = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET:-d} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", values) == "v d d  d"
    assert interpolate("a$$b ${SET}", values) == "a$b v"
    assert interpolate("${SET:?needed}", values) == "v"
    with pytest.raises(ComposeEnvError, match="EMPTY: set it"):
        interpolate("${EMPTY:?set it}", values)
    with pytest.raises(ComposeEnvError, match="UNSET: set it"):
        interpolate("${UNSET?set it}", values)


def test_service_addresses_are_swapped_in_urls_only():
    assert swap_hosts("postgresql+psycopg2://airflow:pw@postgres/airflow", LOCAL) == (
        "postgresql+psycopg2://airflow:pw@127.0.0.1:5001/airflow"
    )
    assert swap_hosts("redis://:@redis:6379/0", LOCAL) == "redis://:@127.0.0.1:5002/0"
    assert swap_hosts("http://airflow-apiserver:8080/execution/", LOCAL) == "http://127.0.0.1:5003/execution/"
    # A port the map does not name is not guessed; plain words are not hosts.
    assert swap_hosts("redis://:@redis:6380/0", LOCAL) == "redis://:@redis:6380/0"
    assert swap_hosts("postgres", LOCAL) == "postgres"


def test_the_compose_files_environment_made_local():
    env = compose_env.local_env(
        {**SECRETS, "THEMEPARK_DB_PASSWORD": "x"}, LOCAL, replace={"AIRFLOW_CONN_THEMEPARK_DB": "mysql://local/db"}
    )
    assert set(env) == set(compose_env.airflow_common_env())
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@127.0.0.1:5002/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg2://airflow:pw@127.0.0.1:5001/airflow"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:5003/execution/"
    assert env["AIRFLOW__CORE__FERNET_KEY"] == "fk" and env["AIRFLOW_CONN_THEMEPARK_DB"] == "mysql://local/db"


def test_a_service_left_without_a_local_address_is_an_error():
    with pytest.raises(ComposeEnvError, match="AIRFLOW_CONN_THEMEPARK_DB still names compose service 'themepark-db'"):
        compose_env.local_env({**SECRETS, "THEMEPARK_DB_PASSWORD": "x"}, LOCAL)
    with pytest.raises(ComposeEnvError, match="not in x-airflow-common.environment"):
        compose_env.local_env(SECRETS, LOCAL, replace={"AIRFLOW__CELERY__NO_SUCH_SETTING": "x"})
    with pytest.raises(ComposeEnvError, match="POSTGRES_PASSWORD"):
        compose_env.local_env({}, LOCAL, replace={"AIRFLOW_CONN_THEMEPARK_DB": "mysql://local/db"})
