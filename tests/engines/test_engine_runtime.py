"""Budgets from the engines, a missing driver library as `unsupported`, and MySQL closing a
connection whose session set-up failed."""

import io
import json
import sys
from unittest import mock

import MySQLdb
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.test import APIClient

from instances import engines
from instances.engines import BaseEngine, ConnectionParams, EngineError, engine_class, engine_time_limit
from instances.engines.base import TIME_LIMIT_GRACE
from instances.engines.mysql import MySQLEngine
from instances.models import Credential, Instance
from tests.loopback import closed_port

# --- budgets ----------------------------------------------------------------------------------------


def test_each_engine_declares_its_bounded_round_trips():
    # Counted from each adapter's collection path: statements sent after connecting.
    assert {db_type: engine_class(db_type).round_trips for db_type in engines.ENGINE_MODULES} == {
        # SET max_statement_time / (MySQL) SET max_execution_time + stats expiry, privileges, sizes,
        # tablespace files (disk footprint)
        "mysql": 5,
        "postgresql": 1,  # sizes
        "sqlserver": 3,  # edition, sizes, tempdb's current files
        "oracle": 3,  # container name, tablespace or container file sums, used bytes
    }


@pytest.mark.parametrize("db_type", ["mysql", "postgresql", "sqlserver", "oracle"])
def test_time_limit_is_connect_plus_one_query_timeout_per_round_trip_plus_grace(db_type):
    cls = engine_class(db_type)
    assert cls.time_limit(10, 60) == 10 + cls.round_trips * 60 + TIME_LIMIT_GRACE


@override_settings(CAPACITY_CONNECT_TIMEOUT=7, CAPACITY_QUERY_TIMEOUT=30)
def test_engine_time_limit_reads_the_settings():
    assert engine_time_limit("sqlserver") == 7 + 3 * 30 + TIME_LIMIT_GRACE
    assert engine_time_limit("postgresql") == 7 + 1 * 30 + TIME_LIMIT_GRACE


def test_the_two_query_engines_get_room_for_both_queries():
    # The old limit (connect + one query + 15 s) declared a slow but healthy server timed out.
    for db_type in ("sqlserver", "oracle"):
        assert engine_class(db_type).time_limit(10, 60) >= 10 + 2 * 60


# --- a missing driver library ---------------------------------------------------------------------

LIBODBC_MISSING = ImportError("libodbc.so.2: cannot open shared object file: No such file or directory")


@pytest.fixture
def pyodbc_unloadable(monkeypatch):
    """As on a host without unixODBC: importing pyodbc fails, so the SQL Server adapter cannot load."""
    monkeypatch.delitem(sys.modules, "instances.engines.sqlserver", raising=False)
    real_import = __import__

    def failing_import(name, *args, **kwargs):
        if name == "pyodbc" or name.startswith("pyodbc."):
            raise LIBODBC_MISSING
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "pyodbc", raising=False)
    monkeypatch.setattr("builtins.__import__", failing_import)


def test_a_missing_driver_library_is_unsupported_with_a_readable_message(pyodbc_unloadable):
    with pytest.raises(EngineError) as info:
        engine_class("sqlserver")
    assert info.value.kind == "unsupported"
    assert info.value.message == (
        "The SQL Server driver cannot be loaded on this server (libodbc.so.2: cannot open shared object file: "
        "No such file or directory); install pyodbc (with unixODBC, libodbc2) and a SQL Server ODBC driver "
        "(msodbcsql18 or tdsodbc)."
    )


def test_an_oserror_from_the_driver_is_unsupported_too(monkeypatch):
    monkeypatch.setattr(engines, "import_module", mock.Mock(side_effect=OSError("libclntsh.so: cannot open")))
    with pytest.raises(EngineError) as info:
        engine_class("oracle")
    assert info.value.kind == "unsupported"
    assert "libclntsh.so: cannot open" in info.value.message


def test_the_time_limit_of_an_engine_without_driver_is_the_base_one(pyodbc_unloadable):
    with override_settings(CAPACITY_CONNECT_TIMEOUT=10, CAPACITY_QUERY_TIMEOUT=60):
        assert engine_time_limit("sqlserver") == BaseEngine.time_limit(10, 60)


@pytest.fixture
def mssql_instance(db):
    credential = Credential(name="sa", username="sa")
    credential.set_password("pw")
    credential.save()
    return Instance.objects.create(
        name="mssql", db_type="sqlserver", host="127.0.0.1", port=closed_port(), credential=credential
    )


@pytest.mark.django_db
def test_test_connection_api_answers_json_not_500_when_the_driver_is_missing(
    mssql_instance, pyodbc_unloadable, django_user_model
):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser("boss", "boss@example.net", "pw"))
    response = client.post(f"/api/instances/{mssql_instance.pk}/test-connection/")
    assert response.status_code != 500
    body = response.json()
    assert body["success"] is False
    assert body["error_kind"] == "unsupported"
    assert "libodbc.so.2" in body["error"]


@pytest.mark.django_db
def test_test_connection_command_exits_1_with_one_line(mssql_instance, pyodbc_unloadable):
    with pytest.raises(CommandError) as info:
        call_command("test_connection", "mssql")
    assert info.value.returncode == 1
    assert str(info.value).startswith("mssql: connection failed [unsupported]: The SQL Server driver cannot be loaded")


@pytest.mark.django_db(transaction=True)
def test_collection_records_unsupported_when_the_driver_is_missing(mssql_instance, pyodbc_unloadable):
    out = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("collect_sizes", "--instance", "mssql", "--json", stdout=out, stderr=io.StringIO())
    assert info.value.code == 1
    [entry] = json.loads(out.getvalue().strip().splitlines()[-1])["instances"]
    assert entry["status"] == "failed"
    assert entry["error_kind"] == "unsupported"
    assert "libodbc.so.2" in entry["error"]


# --- MySQL: a failing SET SESSION closes the connection ------------------------------------------


class _Cursor:
    def __init__(self, fail_on: str):
        self.fail_on = fail_on
        self.closed = False

    def execute(self, sql, *args):
        if self.fail_on in sql:
            # Not 1193 (unknown variable): an old server without statement limits is collected anyway.
            raise MySQLdb.OperationalError(2013, "Lost connection to MySQL server during query")

    def close(self):
        self.closed = True


class _Connection:
    def __init__(self, server_info: str, fail_on: str):
        self.server_info = server_info
        self.cursor_obj = _Cursor(fail_on)
        self.closed = False

    def get_server_info(self):
        return self.server_info

    def cursor(self):
        return self.cursor_obj

    def close(self):
        self.closed = True


@pytest.mark.parametrize(
    ("server_info", "fail_on"),
    [("10.11.6-MariaDB", "max_statement_time"), ("8.0.36", "max_execution_time")],
)
def test_mysql_closes_the_connection_when_set_session_fails(server_info, fail_on):
    conn = _Connection(server_info, fail_on)
    engine = MySQLEngine(ConnectionParams("127.0.0.1", 3306, "u", "p"))
    with mock.patch("instances.engines.mysql.MySQLdb.connect", return_value=conn), pytest.raises(EngineError):
        engine.connect()
    assert conn.closed
    assert conn.cursor_obj.closed
    assert engine._conn is None


def test_mysql_closes_the_connection_when_reading_the_server_info_fails():
    conn = _Connection("", "never")
    conn.get_server_info = mock.Mock(side_effect=MySQLdb.InterfaceError(0, "gone"))
    with mock.patch("instances.engines.mysql.MySQLdb.connect", return_value=conn), pytest.raises(EngineError):
        MySQLEngine(ConnectionParams("127.0.0.1", 3306, "u", "p")).connect()
    assert conn.closed
