"""MySQL adapter without a server: which tablespace view it reads, and schema directory names.

The figures themselves are checked against the live MariaDB in test_tables_live.py.
"""

from unittest import mock

import MySQLdb
import pytest

from instances.engines import mysql
from instances.engines.base import ConnectionParams
from instances.engines.mysql import MySQLEngine

from .helpers import FakeConnection

CONNECT = "instances.engines.mysql.MySQLdb.connect"


class FakeMySQL(FakeConnection):
    def __init__(self, server_info, responses):
        super().__init__(responses=responses)
        self.server_info = server_info

    def get_server_info(self):
        return self.server_info

    def cursor(self):
        cursor = super().cursor()
        real_execute = cursor.execute

        def execute(sql, *args):
            if sql.startswith("SET SESSION"):
                self.executed.append(sql)
                return cursor
            return real_execute(sql, *args)

        cursor.execute = execute
        return cursor


# (schema, data, index, table count, data_free, bytes of tables of file-keeping engines, schema grants)
SCHEMAS = [("app", 16384, 16384, 2, 4096, 1024, 1), ("my-db", 32768, 0, 1, 0, 0, 1), ("café", 16384, 0, 1, 0, 0, 1)]
# The login's global privileges: complete listing, every table readable.
PRIVILEGES = [("GLOBAL", "SELECT"), ("GLOBAL", "PROCESS"), ("GLOBAL", "SHOW DATABASES")]


def collect(server_info, allocated):
    conn = FakeMySQL(server_info, {mysql.PRIVILEGES_SQL: PRIVILEGES, mysql.SIZES_SQL: SCHEMAS, **allocated})
    with mock.patch(CONNECT, return_value=conn):
        with MySQLEngine(ConnectionParams("db01", 3306, "capacity", "pw")) as engine:
            return engine.list_database_sizes(), conn


@pytest.mark.parametrize(
    ("server_info", "view_sql"),
    [
        ("8.0.36", mysql.ALLOCATED_SQL_MYSQL8),
        ("8.4.0-log", mysql.ALLOCATED_SQL_MYSQL8),
        ("5.7.44-log", mysql.ALLOCATED_SQL),
        ("10.11.6-MariaDB-0+deb12u1", mysql.ALLOCATED_SQL),
        ("5.5.5-10.6.16-MariaDB", mysql.ALLOCATED_SQL),
    ],
)
def test_the_tablespace_view_follows_the_server(server_info, view_sql):
    result, conn = collect(server_info, {view_sql: [("app", 98304), ("my@002ddb", 65536)]})
    assert conn.executed[-1] == view_sql
    sizes = {db.name: db for db in result.databases}
    assert sizes["app"].allocated_size_bytes == 98304 + 1024  # InnoDB files + the Aria/MyISAM table
    assert sizes["app"].free_size_bytes == 4096
    assert sizes["my-db"].allocated_size_bytes == 65536
    # A non-ASCII schema's directory name is the server's own encoding: not guessed.
    assert sizes["café"].allocated_size_bytes is None


def test_an_unreadable_tablespace_view_leaves_allocated_empty_with_a_note():
    missing = MySQLdb.OperationalError(1054, "Unknown column 'ALLOCATED_SIZE' in 'field list'")
    result, _conn = collect("5.6.51", {mysql.ALLOCATED_SQL: missing})
    assert all(db.allocated_size_bytes is None for db in result.databases)
    assert [db.size_bytes for db in result.databases] == [32768, 32768, 16384]
    assert result.warnings == [
        "Disk footprint (allocated size) not read: Unknown column 'ALLOCATED_SIZE' in 'field list'"
    ]


@pytest.mark.parametrize(
    ("schema", "directory"),
    [("sales", "sales"), ("Sales_2024", "Sales_2024"), ("my-db", "my@002ddb"), ("a b.c", "a@0020b@002ec"),
     ("x@y", "x@0040y"), ("données", None)],
)  # fmt: skip
def test_schema_directory_names(schema, directory):
    assert mysql.schema_dir_name(schema) == directory


def test_per_table_rows_sum_to_the_per_schema_row():
    rows = [
        ("app", "orders", "BASE TABLE", 1200, 49152, 16384, 0, 0, 1),
        ("app", "legacy", "BASE TABLE", 3, 2048, 1024, 0, 3072, 1),
        ("app", "v_orders", "VIEW", None, None, None, None, 0, 1),
        ("empty", None, None, None, None, None, None, None, 0),
    ]
    schema_rows, tables = mysql.table_rows_to_schema_rows(rows)
    assert schema_rows == [("app", 51200, 17408, 3, 0, 3072, 1), ("empty", 0, 0, 0, 0, 0, 0)]
    assert [t.table_name for t in tables["app"]] == ["orders", "legacy"]
    assert tables["empty"] == []
    assert sum(t.total_size_bytes for t in tables["app"]) == 51200 + 17408


@pytest.mark.parametrize(
    ("grant", "name", "visible"),
    [("app", "app", True), ("app", "App", False), ("capt\\_x\\_%", "capt_x_db", True),
     ("capt\\_x\\_%", "captAxAdb", False), ("d_b", "dxb", True), ("%", "anything", True)],
)  # fmt: skip
def test_schema_grants_tell_which_missing_schemas_the_login_would_see(grant, name, visible):
    assert bool(mysql.grant_pattern(grant).fullmatch(name)) is visible
