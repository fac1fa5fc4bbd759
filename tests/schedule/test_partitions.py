"""The PostgreSQL partitioning path, proven in every run.

With PostgreSQL as the platform database the scenarios run here, in the test database. With
SQLite (or MySQL) they run in a subprocess against a throwaway database on the local
PostgreSQL server, built by a real `migrate`.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from capacity.services import partitions
from tests import servers

from . import pg_scenarios

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def throwaway_pg_platform():
    """DATABASE_URL of a fresh PostgreSQL database that `manage.py migrate` has just built."""
    box = servers.postgres_sandbox()
    name = box.name("platform")
    box.execute(f'CREATE DATABASE "{name}"')
    box.databases.append(name)
    auth = quote(box.admin_user) + (f":{quote(box.admin_password)}" if box.admin_password else "")
    url = f"postgres://{auth}@{box.host}:{box.port}/{name}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "capacity_site.settings", "DATABASE_URL": url}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    yield url
    box.cleanup()


def _run(name, request):
    if connection.vendor == "postgresql":
        request.getfixturevalue("db")
        pg_scenarios.SCENARIOS[name]()
        return
    url = request.getfixturevalue("throwaway_pg_platform")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "capacity_site.settings", "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "tests.schedule.pg_scenarios", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("name", list(pg_scenarios.SCENARIOS))
def test_postgresql_scenario(name, request):
    _run(name, request)


@pytest.mark.django_db
def test_partitioning_is_reported_off_elsewhere_and_never_breaks_the_jobs():
    state = partitions.partition_state()
    assert state["enabled"] is (connection.vendor == "postgresql")
    if connection.vendor != "postgresql":
        assert partitions.list_partitions() == []
        assert partitions.ensure_future_partitions() == []
        assert partitions.drop_partitions_before(partitions.timezone.localdate()) == []
