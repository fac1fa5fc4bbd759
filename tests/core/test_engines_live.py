"""The MySQL and PostgreSQL adapters against real servers and misbehaving ports."""

import time

import pytest

from instances.engines import ConnectionParams, EngineError
from instances.engines.mysql import MySQLEngine
from instances.engines.postgresql import PostgreSQLEngine
from tests.loopback import closed_port, silent_server

ENGINES = {"mysql": (MySQLEngine, "root"), "postgresql": (PostgreSQLEngine, "postgres")}


def params(port, username, **kw):
    return ConnectionParams(host="127.0.0.1", port=port, username=username, password="", **kw)


@pytest.mark.parametrize("db_type", ENGINES)
def test_closed_port_fails_fast_with_one_line(db_type):
    engine_cls, user = ENGINES[db_type]
    started = time.monotonic()
    with pytest.raises(EngineError) as exc:
        with engine_cls(params(closed_port(), user, connect_timeout=2)) as engine:
            engine.list_database_sizes()
    assert exc.value.kind == "connection"
    assert "\n" not in exc.value.message
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("db_type", ENGINES)
def test_silent_server_times_out_within_the_connect_timeout(db_type):
    engine_cls, user = ENGINES[db_type]
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(EngineError) as exc:
            with engine_cls(params(port, user, connect_timeout=2)):
                pass
        elapsed = time.monotonic() - started
    assert exc.value.kind in ("timeout", "connection")
    assert "\n" not in exc.value.message
    assert elapsed < 2 + 3, elapsed


def test_mysql_version_and_test_connection(mysql_box):
    result = MySQLEngine(params(mysql_box.port, mysql_box.admin_user)).test_connection()
    assert result.success, result.error
    assert "MariaDB" in result.server_version or result.server_version[0].isdigit()


def test_postgres_version(pg_box):
    result = PostgreSQLEngine(params(pg_box.port, pg_box.admin_user)).test_connection()
    assert result.success and result.server_version.startswith("PostgreSQL ")


def test_postgres_database_without_connect_is_noted_not_fatal(pg_box):
    open_db = pg_box.create_database("open", rows=10)
    locked = pg_box.create_database("locked", rows=10)
    user, password = pg_box.create_login()
    pg_box.execute(f'REVOKE CONNECT ON DATABASE "{locked}" FROM PUBLIC')
    engine = PostgreSQLEngine(ConnectionParams("127.0.0.1", pg_box.port, user, password))
    with engine:
        result = engine.list_database_sizes()
    names = {d.name for d in result.databases}
    assert open_db in names and locked not in names
    assert locked in result.skipped
    assert any(locked in w for w in result.warnings)


def test_mysql_login_without_grants_is_permission(mysql_box):
    user, password = mysql_box.create_login(grant_all_sandbox=False)
    with pytest.raises(EngineError) as exc:
        with MySQLEngine(ConnectionParams("127.0.0.1", mysql_box.port, user, password)) as engine:
            engine.list_database_sizes()
    assert exc.value.kind == "permission"


def test_connection_is_closed_on_every_path(pg_box, monkeypatch):
    engine = PostgreSQLEngine(params(pg_box.port, pg_box.admin_user))
    with pytest.raises(EngineError):
        with engine:
            conn = engine._conn
            monkeypatch.setattr("instances.engines.postgresql.SIZES_SQL", "SELECT no_such_column FROM pg_database")
            engine.list_database_sizes()
    assert engine._conn is None and conn.closed
