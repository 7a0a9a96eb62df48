"""Tests that need no database server: `make test-unit` runs them without starting one.

They may use Airflow's SQLite metadata (the `dag` fixture), never MariaDB: a test here that asks
for a server (``server``, ``database``, ``migrated``) fails and belongs in tests/integration.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def server():
    pytest.fail("a unit test must not need a database server: move it to tests/integration")
