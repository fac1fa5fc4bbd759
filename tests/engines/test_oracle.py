"""Oracle adapter: its SQL against the documented dictionary views, sizes from recorded rows of a
non-CDB and of a CDB, error kinds, and the real thin driver against loopback ports."""

import inspect
import threading
import time
from unittest import mock

import oracledb
import pytest
from oracledb import errors as driver_errors
from sqlglot.errors import OptimizeError

from instances.engines import oracle
from instances.engines.base import ConnectionParams, EngineError
from instances.engines.oracle import OracleEngine
from tests.loopback import closed_port, silent_server

from .catalogs import ORACLE_CATALOG
from .helpers import CatalogDatabase, FakeConnection, check_sql

MiB = 1024 * 1024
GiB = 1024 * MiB
PASSWORD = "Tiger#2024pw"
CONNECT = "instances.engines.oracle.oracledb.connect"


def make_params(**overrides):
    values = {
        "host": "ora01.example.net",
        "port": 1521,
        "username": "c##capacity",
        "password": PASSWORD,
        "options": {"service_name": "ORCLCDB"},
        "connect_timeout": 2,
        "query_timeout": 60,
        "name": "ora01",
    }
    values.update(overrides)
    return ConnectionParams(**values)


class OraError:
    """Shaped like the object oracledb puts in exc.args[0]: .message, .code, .full_code."""

    def __init__(self, message, code=0):
        self.message = message
        self.code = code
        self.full_code = message.split(":", 1)[0]

    def __str__(self):
        return self.message


def ora(message, code=0, exc_class=oracledb.DatabaseError):
    return exc_class(OraError(message, code))


# --- recorded dictionary rows --------------------------------------------------------------------


def tablespace(name, contents="PERMANENT", status="ONLINE", con_id=None):
    row = {
        "tablespace_name": name,
        "block_size": 8192,
        "status": status,
        "contents": contents,
        "logging": "NOLOGGING" if contents == "TEMPORARY" else "LOGGING",
        "extent_management": "LOCAL",
        "allocation_type": "UNIFORM" if contents == "TEMPORARY" else "SYSTEM",
        "segment_space_management": "MANUAL" if contents != "PERMANENT" else "AUTO",
        "bigfile": "NO",
    }
    return row if con_id is None else {**row, "con_id": con_id}


def data_file(tablespace_name, file_id, size, con_id=None, online_status="ONLINE"):
    row = {
        "file_name": f"/u02/oradata/ORCL/{tablespace_name.lower()}{file_id:02d}.dbf",
        "file_id": file_id,
        "tablespace_name": tablespace_name,
        # An OFFLINE file's size is unknown to the dictionary: BYTES and BLOCKS come back NULL.
        "bytes": size,
        "blocks": None if size is None else size // 8192,
        "status": "AVAILABLE",
        "relative_fno": file_id,
        "autoextensible": "YES",
        "maxbytes": 34359721984,
        "maxblocks": 4194302,
        "increment_by": 1280,
        "user_bytes": None if size is None else size - MiB,
        "online_status": online_status,
    }
    return row if con_id is None else {**row, "con_id": con_id}


def temp_file(tablespace_name, file_id, size, con_id=None):
    row = {
        "file_name": f"/u02/oradata/ORCL/{tablespace_name.lower()}{file_id:02d}.dbf",
        "file_id": file_id,
        "tablespace_name": tablespace_name,
        "bytes": size,
        "blocks": size // 8192,
        "status": "ONLINE",
        "relative_fno": 1,
        "autoextensible": "YES",
        "maxbytes": 34359721984,
        "user_bytes": size - MiB,
    }
    return row if con_id is None else {**row, "con_id": con_id}


def segment(owner, name, segment_type, tablespace_name, size, con_id=None, partition_name=None):
    row = {
        "owner": owner,
        "segment_name": name,
        "partition_name": partition_name,
        "segment_type": segment_type,
        "tablespace_name": tablespace_name,
        "bytes": size,
        "blocks": size // 8192,
        "extents": max(1, size // MiB),
        "buffer_pool": "DEFAULT",
    }
    return row if con_id is None else {**row, "con_id": con_id}


def pdb(con_id, name, open_mode):
    return {"con_id": con_id, "name": name, "open_mode": open_mode, "restricted": "NO", "block_size": 8192}


# A 19c non-CDB: the usual system tablespaces, a two-file application tablespace, an OFFLINE
# one and a second temporary tablespace with two temp files.
TABLESPACES = [
    tablespace("SYSTEM"),
    tablespace("SYSAUX"),
    tablespace("UNDOTBS1", "UNDO"),
    tablespace("TEMP", "TEMPORARY"),
    tablespace("USERS"),
    tablespace("APP_DATA"),
    tablespace("APP_ARCHIVE", status="OFFLINE"),
    tablespace("TEMP_BATCH", "TEMPORARY"),
]
DATA_FILES = [
    data_file("SYSTEM", 1, 900 * MiB),
    data_file("SYSAUX", 3, 600 * MiB),
    data_file("UNDOTBS1", 4, 350 * MiB),
    data_file("USERS", 7, 5 * MiB),
    data_file("APP_DATA", 5, 34359721984),
    data_file("APP_DATA", 6, 1 * GiB),
    data_file("APP_ARCHIVE", 8, None, online_status="OFFLINE"),
]
TEMP_FILES = [
    temp_file("TEMP", 1, 131 * MiB),
    temp_file("TEMP_BATCH", 2, 2 * GiB),
    temp_file("TEMP_BATCH", 3, 1 * GiB),
]
SEGMENTS = [
    segment("SYS", "OBJ$", "TABLE", "SYSTEM", 17 * MiB),
    segment("SYS", "I_OBJ1", "INDEX", "SYSTEM", 5 * MiB),
    segment("SYS", "SOURCE$", "TABLE", "SYSTEM", 72 * MiB),
    segment("SYS", "WRH$_ACTIVE_SESSION_HISTORY", "TABLE PARTITION", "SYSAUX", 8 * MiB),
    segment("SYS", "WRI$_OPTSTAT_HISTHEAD_HISTORY", "TABLE", "SYSAUX", 4 * MiB),
    segment("SYS", "_SYSSMU1_3724004606$", "TYPE2 UNDO", "UNDOTBS1", 2228224),
    segment("SYS", "_SYSSMU2_2996391332$", "TYPE2 UNDO", "UNDOTBS1", 2228224),
    segment("APP", "AUDIT_LOG", "TABLE", "USERS", 65536),
    segment("APP", "ORDERS", "TABLE", "APP_DATA", 20 * GiB),
    segment("APP", "ORDERS_PK", "INDEX", "APP_DATA", 4 * GiB),
    segment("APP", "ORDER_LINES", "TABLE PARTITION", "APP_DATA", 1 * GiB),
    segment("ARCH", "OLD_ORDERS", "TABLE", "APP_ARCHIVE", 512 * MiB),
]

# A 19c CDB: the root, the seed, two open PDBs and one left MOUNTED (CDB_ views skip it).
PDBS = [
    pdb(2, "PDB$SEED", "READ ONLY"),
    pdb(3, "SALESPDB", "READ WRITE"),
    pdb(4, "HRPDB", "READ WRITE"),
    pdb(5, "TESTPDB", "MOUNTED"),
]
CDB_DATA_FILES = [
    data_file("SYSTEM", 1, 1100 * MiB, con_id=1),
    data_file("SYSAUX", 3, 800 * MiB, con_id=1),
    data_file("UNDOTBS1", 4, 340 * MiB, con_id=1),
    data_file("USERS", 7, 5 * MiB, con_id=1),
    data_file("SYSTEM", 5, 270 * MiB, con_id=2),
    data_file("SYSAUX", 6, 330 * MiB, con_id=2),
    data_file("UNDOTBS1", 8, 100 * MiB, con_id=2),
    data_file("SYSTEM", 9, 280 * MiB, con_id=3),
    data_file("SYSAUX", 10, 400 * MiB, con_id=3),
    data_file("UNDOTBS1", 11, 200 * MiB, con_id=3),
    data_file("SALES_DATA", 12, 10 * GiB, con_id=3),
    data_file("SALES_DATA", 13, 10 * GiB, con_id=3),
    data_file("SYSTEM", 14, 270 * MiB, con_id=4),
    data_file("SYSAUX", 15, 340 * MiB, con_id=4),
    data_file("UNDOTBS1", 16, 100 * MiB, con_id=4),
    data_file("HR_DATA", 17, 500 * MiB, con_id=4),
]
CDB_TEMP_FILES = [
    temp_file("TEMP", 1, 131 * MiB, con_id=1),
    temp_file("TEMP", 2, 36 * MiB, con_id=2),
    temp_file("TEMP", 3, 1 * GiB, con_id=3),
    temp_file("TEMP", 4, 64 * MiB, con_id=4),
]
CDB_SEGMENTS = [
    segment("SYS", "OBJ$", "TABLE", "SYSTEM", 20 * MiB, con_id=1),
    segment("SYS", "SOURCE$", "TABLE", "SYSTEM", 80 * MiB, con_id=1),
    segment("SYS", "WRH$_ACTIVE_SESSION_HISTORY", "TABLE PARTITION", "SYSAUX", 100 * MiB, con_id=1),
    segment("SYS", "OBJ$", "TABLE", "SYSTEM", 8 * MiB, con_id=2),
    segment("SYS", "WRH$_ACTIVE_SESSION_HISTORY", "TABLE PARTITION", "SYSAUX", 16 * MiB, con_id=2),
    segment("SALES", "ORDERS", "TABLE", "SALES_DATA", 12 * GiB, con_id=3),
    segment("SALES", "ORDERS_PK", "INDEX", "SALES_DATA", 2 * GiB, con_id=3),
    segment("SYS", "OBJ$", "TABLE", "SYSTEM", 10 * MiB, con_id=3),
    segment("HR", "EMPLOYEES", "TABLE", "HR_DATA", 256 * MiB, con_id=4),
    segment("HR", "EMP_PK", "INDEX", "HR_DATA", 32 * MiB, con_id=4),
]


def dictionary(**rows):
    tables = {
        "dual": [{"dummy": "X"}],
        "dba_tablespaces": TABLESPACES,
        "dba_data_files": DATA_FILES,
        "dba_temp_files": TEMP_FILES,
        "dba_segments": SEGMENTS,
        "v$pdbs": PDBS,
        "cdb_data_files": CDB_DATA_FILES,
        "cdb_temp_files": CDB_TEMP_FILES,
        "cdb_segments": CDB_SEGMENTS,
    }
    tables.update(rows)
    return CatalogDatabase("oracle", ORACLE_CATALOG, tables)


def fake_connection(con_name="ORCL", responses=None, **rows):
    con = con_name if isinstance(con_name, BaseException) else [(con_name,)]
    answers = {
        oracle.CON_NAME_SQL: con,
        oracle.VERSION_FULL_SQL: [("19.21.0.0.0",)],
        oracle.VERSION_SQL: [("19.0.0.0.0",)],
        oracle.PRODUCT_VERSION_SQL: [("Oracle Database 19c Enterprise Edition", "19.0.0.0.0")],
    }
    answers.update(responses or {})
    return FakeConnection(responses=answers, catalog=dictionary(**rows))


def collect(conn, params=None, **kwargs):
    with mock.patch(CONNECT, return_value=conn) as connect:
        with OracleEngine(params or make_params()) as engine:
            result = engine.list_database_sizes(**kwargs)
    return result, connect


def translate(exc, *, connecting=True, params=None):
    params = params or make_params()
    if connecting:
        with mock.patch(CONNECT, side_effect=exc), pytest.raises(EngineError) as info:
            OracleEngine(params).connect()
        return info.value
    conn = fake_connection(responses={oracle.TABLESPACE_SIZES_SQL: exc})
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError) as info:
        with OracleEngine(params) as engine:
            engine.list_database_sizes()
    assert conn.closed
    return info.value


# --- the SQL itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    oracle.STATEMENTS,
    ids=[
        "con_name", "tablespaces", "tablespaces_used", "cdb", "cdb_used", "tables", "cdb_tables",
        "version_full", "version", "product",
    ],
)  # fmt: skip
def test_every_statement_parses_and_names_only_dictionary_columns(sql):
    check_sql(sql, "oracle", ORACLE_CATALOG)


@pytest.mark.parametrize(
    ("sql", "typo"),
    [
        (oracle.TABLESPACE_SIZES_SQL, ("t.contents", "t.content")),
        (oracle.TABLESPACE_SIZES_SQL, ("FROM dba_temp_files", "FROM dba_tmp_files")),
        (oracle.CDB_SIZES_SQL, ("p.open_mode", "p.openmode")),
        (oracle.CDB_USED_SQL, ("SUM(bytes)", "SUM(byte)")),
        (oracle.TABLESPACE_USED_SQL, ("FROM dba_segments", "FROM dba_segment")),
        (oracle.TABLE_SIZES_SQL, ("i.table_name", "i.tablename")),
        (oracle.TABLE_SIZES_SQL, ("LEFT JOIN dba_lobs", "LEFT JOIN dba_lob")),
        (oracle.CDB_TABLE_SIZES_SQL, ("l.con_id", "l.conid")),
        (oracle.CDB_TABLE_SIZES_SQL, ("t.num_rows", "t.numrows")),
        (oracle.VERSION_FULL_SQL, ("version_full", "full_version")),
    ],
)  # fmt: skip
def test_a_misspelt_column_or_view_fails_the_check(sql, typo):
    broken = sql.replace(*typo)
    assert broken != sql
    with pytest.raises((OptimizeError, AssertionError)):
        check_sql(broken, "oracle", ORACLE_CATALOG)


# --- a non-CDB (or a PDB): one row per tablespace ------------------------------------------------


def test_tablespace_sizes_from_recorded_rows():
    result, _ = collect(fake_connection())
    sizes = {db.name: db for db in result.databases}
    assert set(sizes) == {"SYSTEM", "SYSAUX", "UNDOTBS1", "TEMP", "USERS", "APP_DATA", "TEMP_BATCH"}

    assert (sizes["SYSTEM"].size_bytes, sizes["SYSTEM"].data_size_bytes) == (943_718_400, (17 + 5 + 72) * MiB)
    assert (sizes["SYSAUX"].size_bytes, sizes["SYSAUX"].data_size_bytes) == (600 * MiB, 12 * MiB)
    assert (sizes["UNDOTBS1"].size_bytes, sizes["UNDOTBS1"].data_size_bytes) == (350 * MiB, 2 * 2228224)
    assert (sizes["USERS"].size_bytes, sizes["USERS"].data_size_bytes) == (5 * MiB, 65536)

    app = sizes["APP_DATA"]
    assert app.size_bytes == 34359721984 + GiB == 35_433_463_808  # both files, allocated
    assert app.data_size_bytes == 25 * GiB == 26_843_545_600  # table + index + partition segments
    assert app.index_size_bytes is None and app.log_size_bytes is None
    assert not app.is_system


def test_temporary_tablespaces_are_sized_by_their_temp_files():
    result, _ = collect(fake_connection())
    sizes = {db.name: db for db in result.databases}
    assert (sizes["TEMP"].size_bytes, sizes["TEMP"].data_size_bytes) == (131 * MiB, 0)
    assert (sizes["TEMP_BATCH"].size_bytes, sizes["TEMP_BATCH"].data_size_bytes) == (3 * GiB, 0)


def test_system_undo_and_temporary_tablespaces_are_flagged():
    result, _ = collect(fake_connection())
    flagged = {db.name for db in result.databases if db.is_system}
    assert flagged == {"SYSTEM", "SYSAUX", "UNDOTBS1", "TEMP", "TEMP_BATCH"}


def test_an_offline_tablespace_is_skipped_with_a_warning():
    result, _ = collect(fake_connection())
    assert "APP_ARCHIVE" not in {db.name for db in result.databases}
    assert result.warnings == ["Skipped tablespace APP_ARCHIVE: it is OFFLINE."]
    assert result.skipped == ["APP_ARCHIVE"]


def test_connected_to_a_pdb_it_lists_that_pdbs_tablespaces():
    conn = fake_connection("SALESPDB")
    result, _ = collect(conn)
    assert conn.executed == [oracle.CON_NAME_SQL, oracle.TABLESPACE_SIZES_SQL, oracle.TABLESPACE_USED_SQL]
    assert "APP_DATA" in {db.name for db in result.databases}


def test_before_12c_there_is_no_con_name_and_it_is_a_non_cdb():
    no_con_name = ora("ORA-02003: invalid USERENV parameter", 2003)
    conn = fake_connection(no_con_name)
    result, _ = collect(conn)
    assert conn.executed == [oracle.CON_NAME_SQL, oracle.TABLESPACE_SIZES_SQL, oracle.TABLESPACE_USED_SQL]
    assert len(result.databases) == 7


def test_no_tablespaces_visible_is_a_permission_error():
    with pytest.raises(EngineError) as info:
        collect(fake_connection(dba_tablespaces=[]))
    assert info.value.kind == "permission"
    assert "SELECT_CATALOG_ROLE" in info.value.message


# --- allocated, free, and the segment scan on its own ----------------------------------------------


def test_allocated_and_free_bytes_per_tablespace():
    result, _ = collect(fake_connection())
    sizes = {db.name: db for db in result.databases}
    app = sizes["APP_DATA"]
    assert app.allocated_size_bytes == app.size_bytes == 34359721984 + GiB
    assert app.free_size_bytes == app.size_bytes - 25 * GiB
    assert sizes["USERS"].free_size_bytes == 5 * MiB - 65536
    # Temporary tablespaces: no used bytes and nothing to call free.
    assert (sizes["TEMP"].data_size_bytes, sizes["TEMP"].free_size_bytes) == (0, None)
    assert sizes["TEMP"].allocated_size_bytes == 131 * MiB


CALL_TIMEOUT = "DPY-4024: call timeout of 60000 ms exceeded"


def test_a_segment_scan_past_the_timeout_still_records_the_allocated_sizes():
    conn = fake_connection(
        responses={oracle.TABLESPACE_USED_SQL: ora(CALL_TIMEOUT, exc_class=oracledb.OperationalError)}
    )
    result, _ = collect(conn)
    sizes = {db.name: db for db in result.databases}
    assert set(sizes) == {"SYSTEM", "SYSAUX", "UNDOTBS1", "TEMP", "USERS", "APP_DATA", "TEMP_BATCH"}
    app = sizes["APP_DATA"]
    # Used is unknown: the data size carries the allocated figure and nothing is shown as free.
    assert app.size_bytes == app.allocated_size_bytes == app.data_size_bytes == 34359721984 + GiB
    assert app.free_size_bytes is None
    notes = [w for w in result.warnings if "DBA_SEGMENTS" in w]
    assert len(notes) == 1 and "call timeout" in notes[0]
    assert conn.closed


def test_a_cdb_segment_scan_past_the_timeout_still_records_the_containers():
    conn = fake_connection("CDB$ROOT", responses={oracle.CDB_USED_SQL: ora("ORA-01013: user requested cancel", 1013)})
    result, _ = collect(conn, tables=True)
    sizes = {db.name: db for db in result.databases}
    assert sizes["SALESPDB"].size_bytes == sizes["SALESPDB"].data_size_bytes == 23_471_325_184
    assert sizes["SALESPDB"].free_size_bytes is None
    assert result.tables == {}
    assert any("DBA_SEGMENTS" in w for w in result.warnings)
    assert "Table sizes not read: the segment scan already ran out of time." in result.warnings
    assert oracle.CDB_TABLE_SIZES_SQL not in conn.executed


def test_a_segment_scan_denied_is_still_a_permission_failure():
    denied = ora('ORA-00942: table or view "SYS"."DBA_SEGMENTS" does not exist', 942)
    with pytest.raises(EngineError) as info:
        collect(fake_connection(responses={oracle.TABLESPACE_USED_SQL: denied}))
    assert info.value.kind == "permission"


# --- tables: segments attributed to their table -----------------------------------------------------

LOB = "SYS_LOB0000073001C00004$$"
LOB_INDEX = "SYS_IL0000073001C00004$$"


def index(owner, name, table_owner, table_name, index_type="NORMAL", con_id=None):
    row = {"owner": owner, "index_name": name, "index_type": index_type, "table_owner": table_owner,
           "table_name": table_name, "table_type": "TABLE", "status": "VALID"}  # fmt: skip
    return row if con_id is None else {**row, "con_id": con_id}


def table(owner, name, num_rows, con_id=None):
    row = {"owner": owner, "table_name": name, "num_rows": num_rows, "status": "VALID"}
    return row if con_id is None else {**row, "con_id": con_id}


# On top of SEGMENTS: ORDERS gets a LOB column (its segment and its LOB index), ORDER_LINES a
# second partition and a partitioned index in USERS.
TABLE_SEGMENTS = [
    *SEGMENTS,
    segment("APP", LOB, "LOBSEGMENT", "APP_DATA", 3 * GiB),
    segment("APP", LOB_INDEX, "LOBINDEX", "APP_DATA", 1 * MiB),
    segment("APP", "ORDER_LINES", "TABLE PARTITION", "USERS", 64 * MiB, partition_name="P2024"),
    segment("APP", "ORDER_LINES_IX", "INDEX PARTITION", "USERS", 16 * MiB, partition_name="P2023"),
    segment("APP", "ORDER_LINES_IX", "INDEX PARTITION", "USERS", 16 * MiB, partition_name="P2024"),
]
INDEXES = [
    index("SYS", "I_OBJ1", "SYS", "OBJ$"),
    index("APP", "ORDERS_PK", "APP", "ORDERS"),
    index("APP", LOB_INDEX, "APP", "ORDERS", index_type="LOB"),
    index("APP", "ORDER_LINES_IX", "APP", "ORDER_LINES"),
]
LOBS = [{"owner": "APP", "table_name": "ORDERS", "column_name": "NOTES", "segment_name": LOB,
         "tablespace_name": "APP_DATA", "index_name": LOB_INDEX, "securefile": "YES"}]  # fmt: skip
TABLES = [table("SYS", "OBJ$", 72000), table("APP", "ORDERS", 120_000_000), table("APP", "ORDER_LINES", 450_000_000)]


def test_tables_per_tablespace_with_indexes_and_lobs_attributed():
    conn = fake_connection(dba_segments=TABLE_SEGMENTS, dba_indexes=INDEXES, dba_lobs=LOBS, dba_tables=TABLES)
    result, _ = collect(conn, tables=True)
    assert conn.executed[-1] == oracle.TABLE_SIZES_SQL
    tables = {name: {(t.schema_name, t.table_name): t for t in found} for name, found in result.tables.items()}

    orders = tables["APP_DATA"][("APP", "ORDERS")]
    assert (orders.data_size_bytes, orders.index_size_bytes) == (20 * GiB, 4 * GiB)
    assert orders.lob_size_bytes == 3 * GiB + 1 * MiB  # LOB segment and its LOB index
    assert orders.total_size_bytes == 27 * GiB + 1 * MiB
    assert orders.rows_estimate == 120_000_000
    assert set(tables["APP_DATA"]) == {("APP", "ORDERS"), ("APP", "ORDER_LINES")}  # no SYS_LOB/SYS_IL rows

    # A partitioned table is one row in each tablespace it lies in, with the bytes it holds there.
    assert tables["APP_DATA"][("APP", "ORDER_LINES")].total_size_bytes == 1 * GiB
    lines = tables["USERS"][("APP", "ORDER_LINES")]
    assert (lines.data_size_bytes, lines.index_size_bytes, lines.lob_size_bytes) == (64 * MiB, 32 * MiB, 0)
    assert lines.rows_estimate == 450_000_000
    assert tables["USERS"][("APP", "AUDIT_LOG")].rows_estimate is None  # never analyzed

    obj = tables["SYSTEM"][("SYS", "OBJ$")]
    assert (obj.data_size_bytes, obj.index_size_bytes) == (17 * MiB, 5 * MiB)

    # Undo and temporary tablespaces hold no table; the OFFLINE one is not measured at all.
    assert tables["UNDOTBS1"] == {} and tables["TEMP"] == {}
    assert "APP_ARCHIVE" not in result.tables
    # In a tablespace holding only table, index and LOB segments the tables sum to the used bytes.
    sizes = {db.name: db for db in result.databases}
    for name in ("APP_DATA", "USERS", "SYSTEM", "SYSAUX"):
        assert sum(t.total_size_bytes for t in result.tables[name]) == sizes[name].data_size_bytes


def test_tables_per_container_on_a_cdb_root():
    cdb_indexes = [
        index("SALES", "ORDERS_PK", "SALES", "ORDERS", con_id=3),
        index("HR", "EMP_PK", "HR", "EMPLOYEES", con_id=4),
        # The same index name in another container must not be taken for HR's.
        index("HR", "EMP_PK", "HR", "DECOY", con_id=3),
    ]
    cdb_tables = [table("SALES", "ORDERS", 5_000_000, con_id=3), table("HR", "EMPLOYEES", 20_000, con_id=4)]
    conn = fake_connection("CDB$ROOT", cdb_indexes=cdb_indexes, cdb_tables=cdb_tables)
    result, _ = collect(conn, tables=True)
    assert conn.executed[-1] == oracle.CDB_TABLE_SIZES_SQL
    assert set(result.tables) == {"CDB$ROOT", "PDB$SEED", "SALESPDB", "HRPDB"}
    sales = {(t.schema_name, t.table_name): t for t in result.tables["SALESPDB"]}
    assert (sales[("SALES", "ORDERS")].data_size_bytes, sales[("SALES", "ORDERS")].index_size_bytes) == (
        12 * GiB,
        2 * GiB,
    )
    assert sales[("SALES", "ORDERS")].rows_estimate == 5_000_000
    hr = {(t.schema_name, t.table_name): t for t in result.tables["HRPDB"]}
    assert set(hr) == {("HR", "EMPLOYEES")}
    assert hr[("HR", "EMPLOYEES")].total_size_bytes == (256 + 32) * MiB
    root = {t.table_name for t in result.tables["CDB$ROOT"]}
    assert root == {"OBJ$", "SOURCE$", "WRH$_ACTIVE_SESSION_HISTORY"}


def test_the_table_statement_is_bounded_by_the_budget_and_the_call_timeout_restored():
    conn = fake_connection()
    seen = []
    run = conn.catalog.run

    def spy(sql):
        seen.append(conn.call_timeout)
        return run(sql)

    conn.catalog.run = spy
    with mock.patch("instances.engines.oracle.time.monotonic", side_effect=[100.0, 102.5]):
        result, _ = collect(conn, make_params(query_timeout=60), tables=True, table_budget_seconds=10)
    assert seen[-1] == 7_500  # 7.5 s of the budget left, below the 60 s query timeout
    assert conn.call_timeout == 60_000
    assert "APP_DATA" in result.tables


def test_a_spent_budget_reads_no_tables_and_says_so():
    conn = fake_connection()
    result, _ = collect(conn, tables=True, table_budget_seconds=0)
    assert result.tables == {}
    assert oracle.TABLE_SIZES_SQL not in conn.executed
    assert any("budget" in w for w in result.warnings)
    assert len(result.databases) == 7


def test_a_table_statement_past_the_timeout_keeps_the_sizes():
    conn = fake_connection(responses={oracle.TABLE_SIZES_SQL: ora(CALL_TIMEOUT, exc_class=oracledb.OperationalError)})
    result, _ = collect(conn, tables=True)
    assert result.tables == {}
    assert len(result.databases) == 7
    assert any(w.startswith("Table sizes not read:") and "call timeout" in w for w in result.warnings)


def test_oracle_11g_is_unsupported_in_thin_mode():
    too_old = ora(
        "DPY-3010: connections to this database server version are not supported by python-oracledb in thin mode",
        exc_class=oracledb.NotSupportedError,
    )
    with mock.patch(CONNECT, side_effect=too_old):
        result = OracleEngine(make_params()).test_connection()
    assert not result.success
    assert result.error_kind == "unsupported"
    assert "thin mode" in result.error


# --- a CDB root: one row per container -----------------------------------------------------------


def test_cdb_root_lists_each_container_with_its_sizes():
    conn = fake_connection("CDB$ROOT")
    result, _ = collect(conn)
    assert conn.executed == [oracle.CON_NAME_SQL, oracle.CDB_SIZES_SQL, oracle.CDB_USED_SQL]
    sizes = {db.name: db for db in result.databases}
    assert list(sizes) == ["CDB$ROOT", "PDB$SEED", "SALESPDB", "HRPDB"]

    root = sizes["CDB$ROOT"]
    assert root.size_bytes == (1100 + 800 + 340 + 5 + 131) * MiB == 2_491_416_576
    assert root.data_size_bytes == (20 + 80 + 100) * MiB
    seed = sizes["PDB$SEED"]
    assert seed.size_bytes == (270 + 330 + 100 + 36) * MiB
    assert seed.data_size_bytes == (8 + 16) * MiB
    sales = sizes["SALESPDB"]
    assert sales.size_bytes == (280 + 400 + 200) * MiB + 20 * GiB + 1 * GiB == 23_471_325_184
    assert sales.data_size_bytes == 14 * GiB + 10 * MiB
    hr = sizes["HRPDB"]
    assert hr.size_bytes == (270 + 340 + 100 + 500 + 64) * MiB
    assert hr.data_size_bytes == (256 + 32) * MiB


def test_cdb_root_and_seed_are_system_and_mounted_pdbs_are_skipped():
    result, _ = collect(fake_connection("CDB$ROOT"))
    assert {db.name for db in result.databases if db.is_system} == {"CDB$ROOT", "PDB$SEED"}
    assert result.warnings == ["Skipped PDB TESTPDB: it is MOUNTED, not open, so its files cannot be read."]
    assert result.skipped == ["TESTPDB"]


def test_pdbs_hidden_by_container_data_are_named_in_a_warning():
    # A common user without CONTAINER_DATA=ALL sees only the root's rows in CDB_ views.
    root_only = {
        "cdb_data_files": [r for r in CDB_DATA_FILES if r["con_id"] == 1],
        "cdb_temp_files": [r for r in CDB_TEMP_FILES if r["con_id"] == 1],
        "cdb_segments": [r for r in CDB_SEGMENTS if r["con_id"] == 1],
    }
    result, _ = collect(fake_connection("CDB$ROOT", **root_only))
    assert [db.name for db in result.databases] == ["CDB$ROOT"]
    hidden = [w for w in result.warnings if "CONTAINER_DATA" in w]
    assert hidden and all(name in hidden[0] for name in ("PDB$SEED", "SALESPDB", "HRPDB"))
    assert set(result.skipped) >= {"PDB$SEED", "SALESPDB", "HRPDB"}


def test_no_container_visible_is_a_permission_error():
    with pytest.raises(EngineError) as info:
        collect(fake_connection("CDB$ROOT", cdb_data_files=[], cdb_temp_files=[], cdb_segments=[]))
    assert info.value.kind == "permission"


# --- version ---------------------------------------------------------------------------------------


def server_version(conn):
    with mock.patch(CONNECT, return_value=conn), OracleEngine(make_params()) as engine:
        return engine.server_version()


def test_version_full_from_v_instance():
    assert server_version(fake_connection()) == "Oracle Database 19.21.0.0.0"


def test_version_before_18c_has_no_version_full():
    conn = fake_connection(
        responses={oracle.VERSION_FULL_SQL: ora('ORA-00904: "VERSION_FULL": invalid identifier', 904)}
    )
    assert server_version(conn) == "Oracle Database 19.0.0.0.0"


def test_version_without_access_to_v_instance_uses_product_component_version():
    missing = ora("ORA-00942: table or view does not exist", 942)
    conn = fake_connection(responses={oracle.VERSION_FULL_SQL: missing, oracle.VERSION_SQL: missing})
    assert server_version(conn) == "Oracle Database 19c Enterprise Edition 19.0.0.0.0"
    assert conn.executed == [oracle.VERSION_FULL_SQL, oracle.VERSION_SQL, oracle.PRODUCT_VERSION_SQL]


def test_a_version_query_timeout_is_not_swallowed_by_the_fallback():
    conn = fake_connection(responses={oracle.VERSION_FULL_SQL: ora("DPY-4024: call timeout of 60000 ms exceeded")})
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError) as info:
        with OracleEngine(make_params()) as engine:
            engine.server_version()
    assert info.value.kind == "timeout"


# --- connecting ------------------------------------------------------------------------------------


def test_connects_by_service_name_with_both_timeouts():
    conn = fake_connection()
    _result, connect = collect(conn, make_params(connect_timeout=7, query_timeout=45))
    kwargs = connect.call_args.kwargs
    params = kwargs["params"]
    assert (kwargs["user"], kwargs["password"]) == ("c##capacity", PASSWORD)
    assert (params.host, params.port, params.service_name, params.sid) == ("ora01.example.net", 1521, "ORCLCDB", None)
    assert params.tcp_connect_timeout == 7.0
    assert conn.call_timeout == 45_000


def test_connects_by_sid():
    _result, connect = collect(fake_connection(), make_params(options={"sid": "ORCL"}))
    params = connect.call_args.kwargs["params"]
    assert (params.sid, params.service_name) == ("ORCL", None)
    assert "(SID=ORCL)" in params.get_connect_string()


def test_neither_service_name_nor_sid_is_refused_before_connecting():
    with mock.patch(CONNECT) as connect:
        result = OracleEngine(make_params(options={})).test_connection()
    assert not result.success and result.error_kind == "connection"
    assert "service_name" in result.error
    connect.assert_not_called()


def test_thin_mode_only():
    assert "init_oracle_client" not in inspect.getsource(oracle)
    assert oracledb.is_thin_mode()


def test_a_handshake_past_the_deadline_times_out_and_the_late_connection_is_closed():
    release = threading.Event()
    late = FakeConnection()

    def slow_connect(**kwargs):
        release.wait(10)
        return late

    started = time.monotonic()
    with mock.patch(CONNECT, side_effect=slow_connect), pytest.raises(EngineError) as info:
        OracleEngine(make_params(connect_timeout=1)).connect()
    assert time.monotonic() - started < 1 + 2
    assert info.value.kind == "timeout"
    release.set()
    for _ in range(100):
        if late.closed:
            break
        time.sleep(0.02)
    assert late.closed


# --- error kinds -----------------------------------------------------------------------------------

HELP = "\nHelp: https://docs.oracle.com/error-help/db/ora-{:05d}/"


@pytest.mark.parametrize(
    ("exc", "connecting", "kind", "fragment"),
    [
        (ora("ORA-01017: invalid credential or not authorized; logon denied" + HELP.format(1017), 1017), True,
         "auth", "ORA-01017"),
        (ora("ORA-28000: The account is locked." + HELP.format(28000), 28000), True, "auth", "locked"),
        (ora("ORA-01045: Login denied. User C##CAPACITY does not have CREATE SESSION privilege.", 1045), True,
         "permission", "CREATE SESSION"),
        (ora("ORA-01031: insufficient privileges" + HELP.format(1031), 1031), False, "permission",
         "SELECT_CATALOG_ROLE"),
        (ora("ORA-00942: table or view \"SYS\".\"DBA_SEGMENTS\" does not exist" + HELP.format(942), 942), False,
         "permission", "SELECT_CATALOG_ROLE"),
        (ora("DPY-6005: cannot connect to database (CONNECTION_ID=vMlf2uNTP0t+CSSbojiXqA==).\n"
             "[Errno 111] Connection refused", exc_class=oracledb.OperationalError), True, "connection",
         "Connection refused"),
        (ora("DPY-6005: cannot connect to database (CONNECTION_ID=abc).\ntimed out",
             exc_class=oracledb.OperationalError), True, "timeout", "timed out"),
        (ora("DPY-4011: the database or network closed the connection\nORA-12537: TNS:connection closed", 12537,
             exc_class=oracledb.OperationalError), False, "connection", "closed the connection"),
        (ora("ORA-12541: Cannot connect. No listener at host ora01 port 1521.", 12541), True, "connection",
         "No listener"),
        (ora("ORA-12543: TNS:destination host unreachable", 12543), True, "connection", "unreachable"),
        (ora("ORA-12170: Cannot connect. TCP connect timeout of 2s for host ora01 port 1521.", 12170), True,
         "timeout", "TCP connect timeout"),
        (ora("DPY-4024: call timeout of 60000 ms exceeded", exc_class=oracledb.OperationalError), False, "timeout",
         "call timeout"),
        (ora("DPI-1067: call timeout of 60000 ms exceeded with ORA-3156"), False, "timeout", "call timeout"),
        (ora('DPY-6001: Service "ORCLCDB" is not registered with the listener at host "ora01" port 1521. '
             "(Similar to ORA-12514)", exc_class=oracledb.OperationalError), True, "connection",
         "does not know the service ORCLCDB"),
        (ora("ORA-12514: TNS:listener does not currently know of service requested in connect descriptor", 12514),
         True, "connection", "service_name option"),
        (ora('DPY-6003: SID "ORCL" is not registered with the listener at host "ora01" port 1521. '
             "(Similar to ORA-12505)", exc_class=oracledb.OperationalError), True, "connection", "SID"),
        (ora("DPY-3010: connections to this database server version are not supported by python-oracledb in "
             "thin mode", exc_class=oracledb.NotSupportedError), True, "unsupported", "thin mode"),
        (ora("DPY-3015: password verifier type 0x939 is not supported by python-oracledb in thin mode",
             exc_class=oracledb.NotSupportedError), True, "unsupported", "verifier"),
        (ora("ORA-01476: divisor is equal to zero", 1476), False, "data", "ORA-01476"),
        (ora("ORA-01033: ORACLE initialization or shutdown in progress", 1033), True, "connection",
         "initialization"),
        (ora("ORA-99999: something new", 99999), True, "connection", "something new"),
    ],
)  # fmt: skip
def test_driver_errors_map_to_kinds(exc, connecting, kind, fragment):
    error = translate(exc, connecting=connecting)
    assert error.kind == kind
    assert fragment in error.message
    assert "\n" not in error.message
    assert "Help:" not in error.message
    assert "CONNECTION_ID" not in error.message


def test_the_drivers_own_error_objects_are_understood():
    # oracledb's _Error adds the help URL and wraps ORA-12537 in DPY-4011, as the driver does.
    real = driver_errors._Error("ORA-12537: TNS:connection closed", code=12537)
    assert (real.full_code, real.code) == ("DPY-4011", 12537)
    error = translate(real.exc_type(real))
    assert error.kind == "connection"
    assert "\n" not in error.message


def test_the_password_never_appears_in_a_message():
    error = translate(ora(f"ORA-99999: odd echo of {PASSWORD}", 99999))
    assert PASSWORD not in error.message
    assert "***" in error.message


def test_close_runs_when_the_query_raises():
    conn = fake_connection(responses={oracle.TABLESPACE_SIZES_SQL: ora("ORA-01031: insufficient privileges", 1031)})
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError):
        with OracleEngine(make_params()) as engine:
            engine.list_database_sizes()
    assert conn.closed
    assert conn.cursors_open == 0


def test_close_runs_when_setting_the_call_timeout_fails():
    class Refusing(FakeConnection):
        def __setattr__(self, name, value):
            if name == "call_timeout":
                raise oracledb.InterfaceError(OraError("DPY-1001: not connected to database"))
            super().__setattr__(name, value)

    conn = Refusing()
    with mock.patch(CONNECT, return_value=conn), pytest.raises(EngineError):
        OracleEngine(make_params()).connect()
    assert conn.closed


# --- the real thin driver against loopback ports -------------------------------------------------


def loopback_params(port):
    return make_params(host="127.0.0.1", port=port, options={"service_name": "ORCLPDB1"}, connect_timeout=2)


def test_closed_port_is_a_connection_error_at_once():
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        OracleEngine(loopback_params(closed_port())).connect()
    assert time.monotonic() - started < 2 + 3
    assert info.value.kind == "connection"
    assert "Connection refused" in info.value.message
    assert "\n" not in info.value.message
    assert PASSWORD not in info.value.message
    # The real driver error carries the shape the OraError double copies.
    driver_error = info.value.__cause__.args[0]
    assert driver_error.full_code == "DPY-6005" and driver_error.code == 0


def test_silent_port_times_out_within_the_connect_timeout():
    with silent_server() as port:
        started = time.monotonic()
        result = OracleEngine(loopback_params(port)).test_connection()
        elapsed = time.monotonic() - started
    assert not result.success
    assert result.error_kind == "timeout"
    assert elapsed < 2 + 3
    assert "\n" not in result.error
    assert PASSWORD not in result.error
