"""Run manage.py in a subprocess against the same test database as this test process."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
_SCHEMES = {"postgresql": "postgres", "mysql": "mysql"}


def platform_database_url() -> str:
    """The test database as a DATABASE_URL (SQLite file, PostgreSQL or MySQL)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"{_SCHEMES[connection.vendor]}://{auth}@{host}{port}/{db['NAME']}"


def subprocess_env(**extra) -> dict:
    return (
        os.environ
        | extra
        | {
            "DJANGO_SETTINGS_MODULE": "capacity_site.test_settings",
            "DATABASE_URL": platform_database_url(),
        }
    )


def manage(*args, timeout: float = 120, **extra_env) -> subprocess.CompletedProcess:
    """`manage.py ARGS` as a user runs it, with its output and exit code."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=subprocess_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
