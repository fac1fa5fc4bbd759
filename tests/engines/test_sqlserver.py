"""SQL Server adapter: its SQL against the documented catalog, sizes from recorded catalog rows,
error kinds, and the real FreeTDS driver against loopback ports."""

import time
from unittest import mock

import pyodbc
import pytest
from sqlglot.errors import OptimizeError

from instances.engines import sqlserver
from instances.engines.base import ConnectionParams, EngineError
from instances.engines.sqlserver import SQLServerEngine
from tests.loopback import closed_port, silent_server

from .catalogs import SQLSERVER_CATALOG, SQLSERVER_DEFAULT_CATALOG, SQLSERVER_USER_DATABASES
from .helpers import CatalogDatabase, FakeConnection, check_sql

PAGE = 8192
PASSWORD = "S3cret;pw}x"
# FreeTDS 1.3 cannot take a } in a braced value (the adapter refuses it), so its tests use this one.
FREETDS_PASSWORD = "S3cret;pw{x"
CONNECT = "instances.engines.sqlserver.pyodbc.connect"
DRIVERS = "instances.engines.sqlserver.pyodbc.drivers"


@pytest.fixture(autouse=True)
def installed_drivers():
    """Microsoft's driver as if installed, so tests do not depend on this machine's ODBC set-up.

    The loopback tests name FreeTDS (registered, or by its library path) and reach the real driver.
    """
    with mock.patch(DRIVERS, return_value=["ODBC Driver 18 for SQL Server", "FreeTDS"]) as drivers:
        yield drivers


def make_params(**overrides):
    values = {
        "host": "mssql01.example.net",
        "port": 1433,
        "username": "capacity",
        "password": PASSWORD,
        "options": {"odbc_driver": "ODBC Driver 18 for SQL Server"},
        "connect_timeout": 2,
        "query_timeout": 60,
        "name": "mssql01",
    }
    values.update(overrides)
    return ConnectionParams(**values)


def database(name, database_id, state_desc="ONLINE", source_database_id=None):
    return {
        "name": name,
        "database_id": database_id,
        "source_database_id": source_database_id,
        "state": {"ONLINE": 0, "RESTORING": 1, "OFFLINE": 6}[state_desc],
        "state_desc": state_desc,
        "recovery_model_desc": "FULL" if database_id > 4 else "SIMPLE",
        "compatibility_level": 160,
    }


def master_file(database_id, file_id, file_type, name, pages, physical_name, data_space_id=1):
    return {
        "database_id": database_id,
        "file_id": file_id,
        "type": file_type,
        "type_desc": {0: "ROWS", 1: "LOG", 2: "FILESTREAM"}[file_type],
        "data_space_id": 0 if file_type == 1 else data_space_id,
        "name": name,
        "physical_name": physical_name,
        "state": 0,
        "state_desc": "ONLINE",
        "size": pages,
        "max_size": -1 if file_type == 0 else 268435456,
        "growth": 8192,
        "is_percent_growth": 0,
    }


def tempdb_file(file_id, file_type, name, pages):
    row = master_file(2, file_id, file_type, name, pages, f"/var/opt/mssql/data/{name}.ndf")
    del row["database_id"]
    return row


DATA = "/var/opt/mssql/data/"
# As a SQL Server 2022 would list them: system databases, an OFFLINE and a RESTORING one, a
# snapshot, a database with two data files and one with three log files.
DATABASES = [
    database("master", 1),
    database("tempdb", 2),
    database("model", 3),
    database("msdb", 4),
    database("Sales", 5),
    database("Archive2019", 6, "OFFLINE"),
    database("Staging", 7, "RESTORING"),
    database("Sales_snapshot_0600", 8, source_database_id=5),
    database("Warehouse", 9),
]
MASTER_FILES = [
    master_file(1, 1, 0, "master", 592, DATA + "master.mdf"),
    master_file(1, 2, 1, "mastlog", 256, DATA + "mastlog.ldf"),
    # tempdb as it is recreated at start-up: the figures the adapter must NOT report.
    master_file(2, 1, 0, "tempdev", 1024, DATA + "tempdb.mdf"),
    master_file(2, 2, 1, "templog", 1024, DATA + "templog.ldf"),
    master_file(2, 3, 0, "temp2", 1024, DATA + "tempdb_mssql_2.ndf"),
    master_file(3, 1, 0, "modeldev", 1024, DATA + "model.mdf"),
    master_file(3, 2, 1, "modellog", 768, DATA + "modellog.ldf"),
    master_file(4, 1, 0, "MSDBData", 1952, DATA + "MSDBData.mdf"),
    master_file(4, 2, 1, "MSDBLog", 96, DATA + "MSDBLog.ldf"),
    master_file(5, 1, 0, "Sales", 1310720, DATA + "Sales.mdf"),
    master_file(5, 2, 1, "Sales_log", 262144, DATA + "Sales_log.ldf"),
    master_file(5, 3, 0, "Sales_2024", 655360, DATA + "Sales_2024.ndf", data_space_id=2),
    master_file(6, 1, 0, "Archive2019", 64000, DATA + "Archive2019.mdf"),
    master_file(6, 2, 1, "Archive2019_log", 8000, DATA + "Archive2019_log.ldf"),
    master_file(7, 1, 0, "Staging", 12800, DATA + "Staging.mdf"),
    master_file(7, 2, 1, "Staging_log", 1280, DATA + "Staging_log.ldf"),
    master_file(8, 1, 0, "Sales", 1310720, DATA + "Sales_snapshot_0600.ss"),
    master_file(8, 3, 0, "Sales_2024", 655360, DATA + "Sales_2024_snapshot_0600.ss", data_space_id=2),
    master_file(9, 1, 0, "Warehouse", 2621440, DATA + "Warehouse.mdf"),
    master_file(9, 2, 1, "Warehouse_log", 131072, DATA + "Warehouse_log.ldf"),
    master_file(9, 3, 1, "Warehouse_log2", 131072, "/mnt/log2/Warehouse_log2.ldf"),
    master_file(9, 4, 1, "Warehouse_log3", 65536, "/mnt/log3/Warehouse_log3.ldf"),
]
# tempdb now, after it grew during the day.
TEMPDB_FILES = [
    tempdb_file(1, 0, "tempdev", 131072),
    tempdb_file(2, 1, "templog", 32768),
    tempdb_file(3, 0, "temp2", 131072),
]
VERSION_ROW = ("16.0.4135.4", "RTM", "Developer Edition (64-bit)", "Microsoft SQL Server 2022 (RTM-CU12)...")


# Sales' own catalog: a clustered table with a nonclustered index, LOB and row-overflow pages;
# a heap in two partitions in another schema; a system table (pages reserved, no user table); a
# view (no pages); a memory-optimized table (its rows live in the container, no allocation unit).
# partition_id and hobt_id differ so the LOB join (on partition_id) is told apart from the others.
SALES_SCHEMAS = [{"name": "dbo", "schema_id": 1}, {"name": "audit", "schema_id": 5}, {"name": "sys", "schema_id": 4}]
SALES_OBJECTS = [
    {"name": "Orders", "object_id": 1001, "schema_id": 1, "type": "U", "type_desc": "USER_TABLE", "is_ms_shipped": 0},
    {"name": "AuditLog", "object_id": 1002, "schema_id": 5, "type": "U", "type_desc": "USER_TABLE", "is_ms_shipped": 0},
    {"name": "OrdersView", "object_id": 1003, "schema_id": 1, "type": "V", "type_desc": "VIEW", "is_ms_shipped": 0},
    {"name": "SessionCache", "object_id": 1004, "schema_id": 1, "type": "U", "type_desc": "USER_TABLE",
     "is_ms_shipped": 0},
    {"name": "sysrowsets", "object_id": 5, "schema_id": 4, "type": "S", "type_desc": "SYSTEM_TABLE",
     "is_ms_shipped": 1},
]  # fmt: skip


def partition(partition_id, object_id, index_id, rows, number=1):
    return {"partition_id": partition_id, "object_id": object_id, "index_id": index_id,
            "partition_number": number, "hobt_id": partition_id + 500, "rows": rows, "data_compression": 0}  # fmt: skip


def allocation_unit(unit_id, unit_type, container_id, total_pages):
    return {"allocation_unit_id": unit_id, "type": unit_type,
            "type_desc": {1: "IN_ROW_DATA", 2: "LOB_DATA", 3: "ROW_OVERFLOW_DATA"}[unit_type],
            "container_id": container_id, "data_space_id": 1, "total_pages": total_pages,
            "used_pages": total_pages, "data_pages": total_pages}  # fmt: skip


SALES_PARTITIONS = [
    partition(10, 1001, 1, 50000),  # clustered index: the table's rows
    partition(11, 1001, 2, 50000),  # a nonclustered index
    partition(20, 1002, 0, 1000, 1),  # heap, partition 1
    partition(21, 1002, 0, 2000, 2),  # heap, partition 2
    partition(30, 1004, 2, 0),  # memory-optimized: no allocation unit
    partition(40, 5, 1, 900),
]
SALES_ALLOCATION_UNITS = [
    allocation_unit(1, 1, 510, 12000),  # Orders in-row (container = hobt_id)
    allocation_unit(2, 2, 10, 3000),  # Orders LOB (container = partition_id)
    allocation_unit(3, 3, 510, 500),  # Orders row-overflow (container = hobt_id)
    allocation_unit(4, 1, 511, 2000),  # Orders' nonclustered index
    allocation_unit(5, 1, 520, 100),
    allocation_unit(6, 1, 521, 200),
    allocation_unit(7, 1, 540, 50),  # a system table's pages: reserved, in no user table
]
SALES_USED_PAGES = 12000 + 3000 + 500 + 2000 + 100 + 200 + 50


def catalog(databases=DATABASES, master_files=MASTER_FILES, tempdb_files=TEMPDB_FILES, sales=True):
    rows = {
        ("master", "sys", "databases"): databases,
        ("master", "sys", "master_files"): master_files,
        ("tempdb", "sys", "database_files"): tempdb_files,
    }
    if sales:
        rows.update(
            {
                ("sales", "sys", "schemas"): SALES_SCHEMAS,
                ("sales", "sys", "objects"): SALES_OBJECTS,
                ("sales", "sys", "partitions"): SALES_PARTITIONS,
                ("sales", "sys", "allocation_units"): SALES_ALLOCATION_UNITS,
            }
        )
    return CatalogDatabase("tsql", SQLSERVER_CATALOG, rows, default_catalog=SQLSERVER_DEFAULT_CATALOG)


ENTERPRISE = 3


def fake_connection(responses=None, **catalog_rows):
    return FakeConnection(
        responses={sqlserver.VERSION_SQL: [VERSION_ROW], sqlserver.EDITION_SQL: [(ENTERPRISE, 1)], **(responses or {})},
        catalog=catalog(**catalog_rows),
    )


def collect(conn, params=None, **kwargs):
    with mock.patch(CONNECT, return_value=conn) as connect:
        with SQLServerEngine(params or make_params()) as engine:
            result = engine.list_database_sizes(**kwargs)
    return result, connect


def translate(exc, *, connecting=True, params=None):
    """The EngineError an engine raises for a driver exception at connect or at query time."""
    params = params or make_params()
    if connecting:
        with mock.patch(CONNECT, side_effect=exc), pytest.raises(EngineError) as info:
            SQLServerEngine(params).connect()
        return info.value
    conn = fake_connection({sqlserver.SIZES_SQL: exc})
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError) as info:
        with SQLServerEngine(params) as engine:
            engine.list_database_sizes()
    assert conn.closed
    return info.value


# --- the SQL itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("sql", sqlserver.STATEMENTS, ids=["edition", "sizes", "tempdb", "version"])
def test_every_statement_parses_and_names_only_catalog_columns(sql):
    check_sql(sql, "tsql", SQLSERVER_CATALOG, SQLSERVER_DEFAULT_CATALOG)


@pytest.mark.parametrize("database", ["master", "tempdb", *SQLSERVER_USER_DATABASES])
def test_the_table_statement_parses_and_names_only_catalog_columns(database):
    check_sql(sqlserver.table_sizes_sql(database), "tsql", SQLSERVER_CATALOG, SQLSERVER_DEFAULT_CATALOG)


@pytest.mark.parametrize(
    "typo",
    [("au.total_pages", "au.totalpages"), ("p.hobt_id", "p.hobtid"), ("sys.allocation_units", "sys.alloc_units")],
)
def test_a_misspelt_column_or_view_in_the_table_statement_fails_the_check(typo):
    broken = sqlserver.table_sizes_sql("sales").replace(*typo)
    with pytest.raises((OptimizeError, AssertionError)):
        check_sql(broken, "tsql", SQLSERVER_CATALOG, SQLSERVER_DEFAULT_CATALOG)


def test_a_database_name_is_bracket_quoted_in_the_table_statement():
    sql = sqlserver.table_sizes_sql("odd]name; DROP TABLE x --")
    assert "FROM [odd]]name; DROP TABLE x --].sys.objects AS o" in sql
    # It parses as one statement whose tables all live in that one database.
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="tsql")
    assert {table.catalog for table in tree.find_all(exp.Table)} == {"odd]name; DROP TABLE x --"}


@pytest.mark.parametrize(
    "typo",
    [("mf.size", "mf.size_pages"), ("d.state_desc", "d.status_desc"), ("sys.master_files", "sys.masterfiles")],
)
def test_a_misspelt_column_or_view_fails_the_check(typo):
    broken = sqlserver.SIZES_SQL.replace(*typo)
    with pytest.raises((OptimizeError, AssertionError)):
        check_sql(broken, "tsql", SQLSERVER_CATALOG, SQLSERVER_DEFAULT_CATALOG)


def test_sizes_are_computed_in_bigint_before_multiplying():
    # size is an int count of pages; int * 8192 overflows past 256 GiB on the server.
    assert sqlserver.SIZES_SQL.count("CAST(mf.size AS bigint) * 8192") == 3
    assert sqlserver.TEMPDB_SIZES_SQL.count("CAST(f.size AS bigint) * 8192") == 3
    assert "CAST(au.total_pages AS bigint)" in sqlserver.table_sizes_sql("sales")


# --- sizes from recorded catalog rows ------------------------------------------------------------


def test_sizes_from_recorded_catalog_rows():
    conn = fake_connection()
    result, _connect = collect(conn)
    sizes = {db.name: db for db in result.databases}

    assert sorted(sizes) == ["Sales", "Warehouse", "master", "model", "msdb", "tempdb"]
    assert (sizes["master"].data_size_bytes, sizes["master"].log_size_bytes) == (592 * PAGE, 256 * PAGE)
    assert sizes["master"].size_bytes == (592 + 256) * PAGE
    assert sizes["model"].size_bytes == (1024 + 768) * PAGE
    assert sizes["msdb"].size_bytes == (1952 + 96) * PAGE

    sales = sizes["Sales"]
    assert sales.data_size_bytes == (1310720 + 655360) * PAGE == 16_106_127_360
    assert sales.log_size_bytes == 262144 * PAGE
    assert sales.size_bytes == 18_253_611_008
    assert sales.index_size_bytes is None
    assert not sales.is_system

    warehouse = sizes["Warehouse"]
    assert warehouse.log_size_bytes == (131072 + 131072 + 65536) * PAGE
    assert warehouse.data_size_bytes == 2621440 * PAGE
    assert warehouse.size_bytes == 24_159_191_040


def test_tempdb_is_measured_from_its_current_files_not_its_startup_size():
    result, _ = collect(fake_connection())
    tempdb = next(db for db in result.databases if db.name == "tempdb")
    assert tempdb.data_size_bytes == (131072 + 131072) * PAGE
    assert tempdb.log_size_bytes == 32768 * PAGE
    assert tempdb.size_bytes == 2_415_919_104
    assert tempdb.is_system


def test_system_databases_are_flagged():
    result, _ = collect(fake_connection())
    assert {db.name for db in result.databases if db.is_system} == {"master", "model", "msdb", "tempdb"}


def test_databases_not_online_and_snapshots_are_skipped_with_a_warning():
    result, _ = collect(fake_connection())
    names = {db.name for db in result.databases}
    assert not names & {"Archive2019", "Staging", "Sales_snapshot_0600"}
    assert sorted(result.warnings) == [
        "Skipped database Archive2019: it is OFFLINE.",
        "Skipped database Staging: it is RESTORING.",
        "Skipped database snapshot Sales_snapshot_0600.",
    ]
    # Named as skipped, so the collection does not take them for dropped databases.
    assert sorted(result.skipped) == ["Archive2019", "Sales_snapshot_0600", "Staging"]


def test_only_declared_statements_run_and_every_cursor_is_closed():
    conn = fake_connection()
    collect(conn)
    assert conn.executed == [sqlserver.EDITION_SQL, sqlserver.SIZES_SQL, sqlserver.TEMPDB_SIZES_SQL]
    assert set(conn.executed) <= set(sqlserver.STATEMENTS)
    assert conn.cursors_open == 0
    assert conn.closed


def test_a_login_that_cannot_see_master_files_gets_a_permission_error():
    # Without VIEW ANY DEFINITION, sys.master_files silently returns no rows.
    conn = fake_connection(master_files=[])
    with pytest.raises(EngineError) as info:
        collect(conn)
    assert info.value.kind == "permission"
    assert "VIEW ANY DEFINITION" in info.value.message
    assert conn.closed


def test_a_database_whose_files_are_hidden_is_skipped_with_a_warning():
    visible = [row for row in MASTER_FILES if row["database_id"] != 9]
    result, _ = collect(fake_connection(master_files=visible))
    assert "Warehouse" not in {db.name for db in result.databases}
    assert any("Warehouse" in w and "cannot see its files" in w for w in result.warnings)
    assert "Warehouse" in result.skipped


def test_tempdb_falls_back_to_master_files_when_its_files_cannot_be_read():
    denied = pyodbc.ProgrammingError(
        "42000",
        '[42000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]The server principal "capacity" is not '
        'able to access the database "tempdb" under the current security context. (916) (SQLExecDirectW)',
    )
    result, _ = collect(fake_connection({sqlserver.TEMPDB_SIZES_SQL: denied}))
    tempdb = next(db for db in result.databases if db.name == "tempdb")
    assert tempdb.data_size_bytes == (1024 + 1024) * PAGE
    assert tempdb.log_size_bytes == 1024 * PAGE
    assert any(w.startswith("tempdb measured from its start-up size") for w in result.warnings)


def test_allocated_size_is_the_files_on_disk():
    result, _ = collect(fake_connection())
    for db in result.databases:
        assert db.allocated_size_bytes == db.size_bytes == db.data_size_bytes + db.log_size_bytes
        assert db.free_size_bytes is None  # measured only with the tables


def test_filestream_and_memory_optimized_containers_count_as_data():
    databases = [database("master", 1), database("tempdb", 2), database("Docs", 10)]
    files = [
        master_file(1, 1, 0, "master", 592, DATA + "master.mdf"),
        master_file(1, 2, 1, "mastlog", 256, DATA + "mastlog.ldf"),
        master_file(10, 1, 0, "Docs", 12800, DATA + "Docs.mdf"),
        master_file(10, 2, 1, "Docs_log", 1280, DATA + "Docs_log.ldf"),
        master_file(10, 3, 2, "Docs_fs", 64000, DATA + "Docs_fs", data_space_id=2),  # FILESTREAM
        master_file(10, 4, 2, "Docs_mod", 32000, DATA + "Docs_mod", data_space_id=3),  # memory-optimized
    ]
    tempdb = [tempdb_file(1, 0, "tempdev", 1024), tempdb_file(2, 1, "templog", 256)]
    result, _ = collect(fake_connection(databases=databases, master_files=files, tempdb_files=tempdb, sales=False))
    docs = next(db for db in result.databases if db.name == "Docs")
    assert docs.data_size_bytes == (12800 + 64000 + 32000) * PAGE
    assert docs.log_size_bytes == 1280 * PAGE
    assert docs.size_bytes == docs.allocated_size_bytes == (12800 + 64000 + 32000 + 1280) * PAGE


@pytest.mark.parametrize(("edition", "product"), [(5, "Azure SQL Database"), (6, "Azure Synapse Analytics")])
def test_azure_sql_database_is_refused_up_front_as_unsupported(edition, product):
    conn = fake_connection({sqlserver.EDITION_SQL: [(edition, None)]})
    with pytest.raises(EngineError) as info:
        collect(conn)
    assert info.value.kind == "unsupported"
    assert info.value.message.startswith(f"{product} is not supported")
    assert "Managed Instance" in info.value.message
    assert conn.executed == [sqlserver.EDITION_SQL]
    assert conn.closed


def test_azure_sql_managed_instance_is_collected():
    result, _ = collect(fake_connection({sqlserver.EDITION_SQL: [(8, 1)]}))
    assert "Sales" in {db.name for db in result.databases}


def test_a_login_without_view_any_database_has_an_incomplete_listing():
    """sys.databases then shows master, tempdb and the databases the login owns: one missing from that
    view may still exist, so it must not be taken as dropped."""
    result, _ = collect(fake_connection({sqlserver.EDITION_SQL: [(ENTERPRISE, 0)]}))
    assert result.listing_complete is False
    assert result.would_list("master") and result.would_list("tempdb")
    assert not result.would_list("Sales") and not result.would_list("SomethingElse")
    assert any("VIEW ANY DATABASE" in w and "not taken as dropped" in w for w in result.warnings), result.warnings


@pytest.mark.parametrize("allowed", [1, None])
def test_a_login_with_view_any_database_or_an_unanswered_check_lists_everything(allowed):
    result, _ = collect(fake_connection({sqlserver.EDITION_SQL: [(ENTERPRISE, allowed)]}))
    assert result.listing_complete is True
    assert not any("VIEW ANY DATABASE" in w for w in result.warnings)


def test_a_permission_error_names_the_grant_the_queries_need():
    denied = pyodbc.ProgrammingError(
        "42000",
        f"[42000] {MS}[SQL Server]The SELECT permission was denied on the object 'master_files', database "
        "'mssqlsystemresource', schema 'sys'. (229) (SQLExecDirectW)",
    )
    error = translate(denied, connecting=False)
    assert error.kind == "permission"
    assert "VIEW ANY DEFINITION" in error.message
    assert "VIEW SERVER STATE" not in error.message


# --- table sizes from recorded catalog rows ------------------------------------------------------


def test_table_sizes_from_allocation_units():
    conn = fake_connection()
    result, _ = collect(conn, tables=True)
    tables = {(t.schema_name, t.table_name): t for t in result.tables["Sales"]}
    assert set(tables) == {("dbo", "Orders"), ("audit", "AuditLog")}  # no view, no system table

    orders = tables[("dbo", "Orders")]
    assert orders.rows_estimate == 50000
    assert orders.data_size_bytes == 12000 * PAGE
    assert orders.lob_size_bytes == (3000 + 500) * PAGE  # LOB + row-overflow
    assert orders.index_size_bytes == 2000 * PAGE
    assert orders.total_size_bytes == (12000 + 3000 + 500 + 2000) * PAGE

    audit = tables[("audit", "AuditLog")]
    assert audit.rows_estimate == 1000 + 2000  # both partitions
    assert (audit.data_size_bytes, audit.index_size_bytes, audit.lob_size_bytes) == (300 * PAGE, 0, 0)

    # tempdb's tables are not read; the others are, even when they hold no user table.
    assert sorted(result.tables) == ["Sales", "Warehouse", "master", "model", "msdb"]
    assert result.tables["Warehouse"] == []
    assert [sql for sql in conn.executed if "allocation_units" in sql] == [
        sqlserver.table_sizes_sql(db.name) for db in result.databases if db.name != "tempdb"
    ]
    assert conn.cursors_open == 0


def test_free_space_is_the_row_files_less_the_reserved_pages():
    result, _ = collect(fake_connection(), tables=True)
    sales = next(db for db in result.databases if db.name == "Sales")
    assert sales.free_size_bytes == (1310720 + 655360 - SALES_USED_PAGES) * PAGE
    # The per-database sizes are the same with or without tables.
    plain, _ = collect(fake_connection())
    assert [(d.name, d.size_bytes, d.data_size_bytes, d.log_size_bytes) for d in plain.databases] == [
        (d.name, d.size_bytes, d.data_size_bytes, d.log_size_bytes) for d in result.databases
    ]


def test_a_database_the_login_cannot_enter_is_noted_and_the_others_are_read():
    denied = pyodbc.ProgrammingError(
        "42000",
        f'[42000] {MS}[SQL Server]The server principal "capacity" is not able to access the database "Warehouse" '
        "under the current security context. (916) (SQLExecDirectW)",
    )
    conn = fake_connection({sqlserver.table_sizes_sql("Warehouse"): denied})
    result, _ = collect(conn, tables=True)
    assert "Warehouse" not in result.tables
    assert "Sales" in result.tables
    notes = [w for w in result.warnings if "Warehouse" in w]
    assert len(notes) == 1 and "cannot enter it" in notes[0] and "CONNECT ANY DATABASE" in notes[0]
    # The database's size is still there: only its tables are missing.
    assert "Warehouse" in {db.name for db in result.databases}


def test_a_table_query_timeout_is_a_warning_and_the_next_database_is_read():
    timeout = pyodbc.OperationalError("HYT00", f"[HYT00] {MS}Query timeout expired (0) (SQLExecDirectW)")
    conn = fake_connection({sqlserver.table_sizes_sql("Sales"): timeout})
    result, _ = collect(conn, tables=True)
    assert "Sales" not in result.tables and "Warehouse" in result.tables
    assert any("Sales" in w and "timed out" in w for w in result.warnings)


def test_a_lost_connection_stops_the_table_read_but_keeps_what_was_read():
    lost = pyodbc.OperationalError("08S01", f"[08S01] {MS}Communication link failure (0) (SQLExecDirectW)")
    conn = fake_connection({sqlserver.table_sizes_sql("Warehouse"): lost})
    result, _ = collect(conn, tables=True)
    names = [db.name for db in result.databases if db.name != "tempdb"]
    assert list(result.tables) == names[: names.index("Warehouse")]
    assert result.tables
    assert len(result.databases) == 6
    assert any(w.startswith("Table sizes not read:") for w in result.warnings)


def test_the_table_budget_bounds_each_statement_and_stops_the_read():
    conn = fake_connection()
    with mock.patch("instances.engines.sqlserver.time.monotonic", side_effect=[100.0, 100.0, 104.5, 120.0]):
        with mock.patch(CONNECT, return_value=conn):
            with SQLServerEngine(make_params(query_timeout=60)) as engine:
                timeouts = []
                real_query = engine._query

                def spy(sql):
                    timeouts.append(conn.timeout)
                    return real_query(sql)

                engine._query = spy
                result = engine.list_database_sizes(tables=True, table_budget_seconds=10)
    # EDITION, SIZES and TEMPDB at the query timeout; the first database with 10 s left, the
    # second with 5.5 s left, then the budget is spent.
    assert timeouts == [60, 60, 60, 10, 5]
    names = [db.name for db in result.databases if db.name != "tempdb"]
    assert list(result.tables) == names[:2]
    assert any("budget" in w and ", ".join(names[2:]) in w for w in result.warnings)
    assert conn.timeout == 60


def test_server_version_names_version_level_and_edition():
    with mock.patch(CONNECT, return_value=fake_connection()):
        result = SQLServerEngine(make_params()).test_connection()
    assert result.success
    assert result.server_version == "Microsoft SQL Server 16.0.4135.4 RTM - Developer Edition (64-bit)"


def test_server_version_falls_back_to_the_first_line_of_the_banner():
    banner = (
        "Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - 15.0.4322.2 (X64) \n\tJul 27 2023 18:11:00 \n"
        "\tCopyright (C) 2019 Microsoft Corporation\n\tStandard Edition (64-bit) on Linux"
    )
    conn = fake_connection({sqlserver.VERSION_SQL: [(None, None, None, banner)]})
    with mock.patch(CONNECT, return_value=conn), SQLServerEngine(make_params()) as engine:
        version = engine.server_version()
    assert version == "Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - 15.0.4322.2 (X64)"


# --- driver choice and connection string ---------------------------------------------------------


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        (
            ["FreeTDS", "ODBC Driver 17 for SQL Server", "ODBC Driver 18 for SQL Server"],
            "ODBC Driver 18 for SQL Server",
        ),
        (["ODBC Driver 17 for SQL Server", "FreeTDS"], "ODBC Driver 17 for SQL Server"),
        (["PostgreSQL Unicode", "FreeTDS"], "FreeTDS"),
    ],
)
def test_driver_preference_when_none_is_named(installed, expected):
    with mock.patch(DRIVERS, return_value=installed):
        assert sqlserver.pick_driver({}) == expected


@pytest.mark.parametrize("installed", [[], ["PostgreSQL Unicode", "MySQL ODBC 8.0 Unicode Driver"]])
def test_no_sql_server_driver_installed_is_unsupported(installed):
    with mock.patch(DRIVERS, return_value=installed), mock.patch(CONNECT) as connect:
        result = SQLServerEngine(make_params(options={})).test_connection()
    assert not result.success
    assert result.error_kind == "unsupported"
    assert "tdsodbc" in result.error
    connect.assert_not_called()


def test_a_named_driver_that_is_not_installed_is_unsupported():
    with mock.patch(DRIVERS, return_value=["FreeTDS"]), pytest.raises(EngineError) as info:
        SQLServerEngine(make_params()).connect()
    assert info.value.kind == "unsupported"
    assert info.value.message == (
        "Refusing to connect with invalid options: options.odbc_driver: ODBC driver ODBC Driver 18 for SQL Server "
        "is not installed on this server (installed: FreeTDS)."
    )


def test_microsoft_driver_gets_host_comma_port_and_timeouts():
    conn = fake_connection()
    with mock.patch(DRIVERS, return_value=["ODBC Driver 18 for SQL Server"]):
        _result, connect = collect(conn, make_params(connect_timeout=7, query_timeout=45))
    (conn_str,), kwargs = connect.call_args
    assert "SERVER={mssql01.example.net,1433};" in conn_str
    assert "PORT=" not in conn_str
    assert conn_str.startswith("DRIVER={ODBC Driver 18 for SQL Server};")
    assert kwargs["timeout"] == 7
    assert conn.timeout == 45


def test_freetds_gets_port_and_a_fixed_tds_version():
    params = make_params(options={"odbc_driver": "FreeTDS"}, password=FREETDS_PASSWORD)
    with mock.patch(DRIVERS, return_value=["FreeTDS"]):
        _result, connect = collect(fake_connection(), params)
    (conn_str,), _kwargs = connect.call_args
    assert "SERVER={mssql01.example.net};PORT={1433};TDS_Version={7.4};" in conn_str


def test_password_is_braced_so_separators_in_it_are_harmless():
    conn_str = sqlserver.connection_string(make_params(), "ODBC Driver 18 for SQL Server")
    assert "PWD={S3cret;pw}}x};" in conn_str
    assert "DATABASE={master};" in conn_str


@pytest.mark.parametrize(
    ("driver", "options", "expected", "absent"),
    [
        ("ODBC Driver 18 for SQL Server", {"encrypt": True, "trust_server_certificate": True},
         ["Encrypt={yes};", "TrustServerCertificate={yes};"], []),
        ("ODBC Driver 18 for SQL Server", {"encrypt": "strict"}, ["Encrypt={strict};"], ["TrustServerCertificate"]),
        ("ODBC Driver 17 for SQL Server", {"encrypt": False}, ["Encrypt={no};"], []),
        ("FreeTDS", {"encrypt": True, "trust_server_certificate": True}, ["Encryption={require};"],
         ["TrustServerCertificate", "Encrypt="]),
        ("FreeTDS", {"encrypt": "no", "tds_version": "7.3"}, ["Encryption={off};", "TDS_Version={7.3};"], []),
        ("ODBC Driver 18 for SQL Server", {}, [], ["Encrypt", "TrustServerCertificate"]),
    ],
)  # fmt: skip
def test_tls_options(driver, options, expected, absent):
    conn_str = sqlserver.connection_string(make_params(options=options, password=FREETDS_PASSWORD), driver)
    for part in expected:
        assert part in conn_str
    for part in absent:
        assert part not in conn_str


# --- error kinds ---------------------------------------------------------------------------------

MS = "[Microsoft][ODBC Driver 18 for SQL Server]"


@pytest.mark.parametrize(
    ("exc", "connecting", "kind", "fragment"),
    [
        (pyodbc.InterfaceError("28000", f"[28000] {MS}[SQL Server]Login failed for user 'capacity'. (18456) "
                               "(SQLDriverConnect)"), True, "auth", "Login failed for user 'capacity'."),
        (pyodbc.OperationalError("42000", f"[42000] {MS}[SQL Server]Cannot open database \"master\" requested by "
                                 "the login. The login failed. (4060) (SQLDriverConnect)"), True, "auth",
         "Cannot open database"),
        (pyodbc.OperationalError("HYT00", f"[HYT00] {MS}Login timeout expired (0) (SQLDriverConnect)"), True,
         "timeout", "Login timeout expired"),
        (pyodbc.OperationalError("HYT00", f"[HYT00] {MS}Query timeout expired (0) (SQLExecDirectW)"), False,
         "timeout", "Query timed out"),
        (pyodbc.OperationalError("08001", f"[08001] {MS}TCP Provider: Error code 0x2749 (10057) "
                                 "(SQLDriverConnect)"), True, "connection", "TCP Provider"),
        (pyodbc.OperationalError("08S01", "[08S01] [FreeTDS][SQL Server]Unable to connect: Adaptive Server is "
                                 "unavailable or does not exist (20009) (SQLDriverConnect)"), True, "connection",
         "Adaptive Server is unavailable"),
        (pyodbc.OperationalError("08S01", f"[08S01] {MS}Communication link failure (0) (SQLExecDirectW)"), False,
         "connection", "Communication link failure"),
        (pyodbc.ProgrammingError("42000", f"[42000] {MS}[SQL Server]VIEW SERVER STATE permission was denied on "
                                 "object 'server', database 'master'. (300) (SQLExecDirectW)"), False,
         "permission", "VIEW SERVER STATE permission was denied"),
        (pyodbc.ProgrammingError("42000", f"[42000] {MS}[SQL Server]The SELECT permission was denied on the object "
                                 "'master_files', database 'mssqlsystemresource', schema 'sys'. (229) "
                                 "(SQLExecDirectW)"), False, "permission", "SELECT permission was denied"),
        (pyodbc.ProgrammingError("42000", f"[42000] {MS}[SQL Server]The user does not have permission to perform "
                                 "this action. (297) (SQLExecDirectW)"), False, "permission", "does not have"),
        (pyodbc.Error("01000", "[01000] [unixODBC][Driver Manager]Can't open lib 'ODBC Driver 18 for SQL Server' : "
                      "file not found (0) (SQLDriverConnect)"), True, "unsupported", "is not installed"),
        (pyodbc.InterfaceError("IM002", "[IM002] [unixODBC][Driver Manager]Data source name not found and no "
                               "default driver specified (0) (SQLDriverConnect)"), True, "unsupported",
         "is not installed"),
        (pyodbc.DataError("22003", f"[22003] {MS}[SQL Server]Arithmetic overflow error converting expression to "
                          "data type int. (8115) (SQLExecDirectW)"), False, "data", "Arithmetic overflow"),
        (pyodbc.Error("HY000", f"[HY000] {MS}Unspecified error (0) (SQLDriverConnect)"), True, "connection",
         "Unspecified error"),
    ],
)  # fmt: skip
def test_driver_errors_map_to_kinds(exc, connecting, kind, fragment):
    error = translate(exc, connecting=connecting)
    assert error.kind == kind
    assert fragment in error.message
    assert "\n" not in error.message
    assert "[Microsoft]" not in error.message and "(SQLDriverConnect)" not in error.message
    assert not error.message.startswith("[")


def test_the_password_never_appears_in_a_message():
    exc = pyodbc.Error("HY000", f"[HY000] [FreeTDS][SQL Server]bad attribute value PWD={PASSWORD} (0)")
    error = translate(exc)
    assert PASSWORD not in error.message
    assert "***" in error.message


def test_multiple_diagnostic_records_become_one_line():
    text = (
        f"[28000] {MS}[SQL Server]Login failed for user 'capacity'. (18456) (SQLDriverConnect); "
        f"[28000] {MS}[SQL Server]Login failed for user 'capacity'. (18456)"
    )
    error = translate(pyodbc.InterfaceError("28000", text))
    # The driver's text already names the login: it is not said twice.
    assert error.message == "SQL Server refused the login: Login failed for user 'capacity'. (18456)"


# --- closing ---------------------------------------------------------------------------------------


def test_close_runs_when_the_query_raises():
    conn = fake_connection({sqlserver.SIZES_SQL: pyodbc.ProgrammingError("42000", "[42000] boom (229)")})
    engine = SQLServerEngine(make_params())
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError):
        with engine:
            engine.list_database_sizes()
    assert conn.closed
    assert conn.cursors_open == 0


def test_close_runs_when_setting_the_query_timeout_fails():
    class Refusing(FakeConnection):
        def __setattr__(self, name, value):
            if name == "timeout":
                raise pyodbc.Error("HYC00", "[HYC00] Optional feature not implemented (0)")
            super().__setattr__(name, value)

    conn = Refusing()
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError):
        SQLServerEngine(make_params()).connect()
    assert conn.closed


def test_a_failing_close_does_not_hide_the_real_error():
    conn = fake_connection({sqlserver.SIZES_SQL: pyodbc.OperationalError("HYT00", "[HYT00] Query timeout expired")})
    conn.close = mock.Mock(side_effect=pyodbc.Error("08003", "[08003] Connection not open"))
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError) as info:
        with SQLServerEngine(make_params()) as engine:
            engine.list_database_sizes()
    assert info.value.kind == "timeout"
    conn.close.assert_called_once()


# --- the real FreeTDS driver against loopback ports ----------------------------------------------


def _freetds_driver():
    """FreeTDS by its registered name (the platform never loads a driver by library path)."""
    return "FreeTDS" if "FreeTDS" in pyodbc.drivers() else None


# Read at import, before the autouse fixture replaces the list of installed drivers.
FREETDS = _freetds_driver()


def loopback_params(port):
    if FREETDS is None:
        # scripts/bootstrap.sh installs it: its absence is a broken machine, not a reason to skip.
        pytest.fail(
            "FreeTDS (Debian's tdsodbc package) is not registered with unixODBC; run scripts/bootstrap.sh",
            pytrace=False,
        )
    return make_params(
        host="127.0.0.1", port=port, options={"odbc_driver": FREETDS}, password=FREETDS_PASSWORD, connect_timeout=2
    )


def test_closed_port_is_a_connection_error_at_once():
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        SQLServerEngine(loopback_params(closed_port())).connect()
    assert time.monotonic() - started < 2 + 3
    assert info.value.kind == "connection"
    assert "\n" not in info.value.message
    assert FREETDS_PASSWORD not in info.value.message


def test_silent_port_times_out_within_the_connect_timeout():
    with silent_server() as port:
        started = time.monotonic()
        result = SQLServerEngine(loopback_params(port)).test_connection()
        elapsed = time.monotonic() - started
    assert not result.success
    assert result.error_kind == "timeout"
    assert elapsed < 2 + 3
    assert "\n" not in result.error
    assert FREETDS_PASSWORD not in result.error


def test_a_driver_given_by_library_path_is_refused_before_unixodbc_sees_it():
    params = make_params(host="127.0.0.1", port=closed_port(), options={"odbc_driver": "/nonexistent/libtdsodbc.so"})
    with mock.patch(CONNECT) as connect, pytest.raises(EngineError) as info:
        SQLServerEngine(params).connect()
    assert info.value.kind == "unsupported"
    assert "options.odbc_driver: must not contain '/'" in info.value.message
    connect.assert_not_called()
