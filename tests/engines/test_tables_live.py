"""Table sizes and disk footprint of the MySQL and PostgreSQL adapters against the real servers."""

import dataclasses

import MySQLdb
import pytest

from instances.engines import ConnectionParams
from instances.engines.mysql import MySQLEngine
from instances.engines.postgresql import PostgreSQLEngine


def mysql_params(box, user=None, password=None, **kw):
    return ConnectionParams("127.0.0.1", box.port, user or box.admin_user, password or box.admin_password, **kw)


def pg_params(box, user=None, password=None, **kw):
    return ConnectionParams("127.0.0.1", box.port, user or box.admin_user, password or box.admin_password, **kw)


# --- MySQL / MariaDB -------------------------------------------------------------------------------


def test_mysql_tables_equal_information_schema_and_database_sizes_are_unchanged(mysql_box):
    big = mysql_box.create_database("big", tables=3, rows=2000)
    empty = mysql_box.create_database("empty", tables=0)
    mysql_box.execute(
        f"CREATE TABLE `{big}`.legacy (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=Aria",
        f"INSERT INTO `{big}`.legacy VALUES (1, 'a'), (2, 'b')",
        f"CREATE VIEW `{big}`.v AS SELECT id FROM `{big}`.t0",
    )
    with MySQLEngine(mysql_params(mysql_box)) as engine:
        plain = engine.list_database_sizes()
        with_tables = engine.list_database_sizes(tables=True)

    # The per-database figures do not depend on whether tables were read. The files' allocated
    # and free bytes are left out: InnoDB extends a tablespace file in the background after the
    # inserts, so two reads a moment apart may see different file sizes.
    def logical(dbs):
        return [dataclasses.replace(db, allocated_size_bytes=None, free_size_bytes=None) for db in dbs]

    assert logical(plain.databases) == logical(with_tables.databases)
    assert plain.tables == {}
    sizes = {db.name: db for db in with_tables.databases}
    for name, (data, index) in mysql_box.server_sizes().items():
        assert (sizes[name].data_size_bytes, sizes[name].index_size_bytes) == (data, index)

    server = {
        row[0]: tuple(int(v) if v is not None else None for v in row[1:])
        for row in mysql_box.execute(
            "SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = '{big}' AND TABLE_TYPE <> 'VIEW'"
        )
    }
    tables = {t.table_name: t for t in with_tables.tables[big]}
    assert set(tables) == {"t0", "t1", "t2", "legacy"}  # the view is no table
    for name, (rows, data, index) in server.items():
        table = tables[name]
        assert (table.rows_estimate, table.data_size_bytes, table.index_size_bytes) == (rows, data, index)
        assert table.total_size_bytes == data + index
        assert table.schema_name == big and table.lob_size_bytes is None
    # The tables sum to the database, so an "other" row is the rest exactly.
    assert sum(t.total_size_bytes for t in tables.values()) == sizes[big].size_bytes
    assert with_tables.tables[empty] == []


def test_mysql_allocated_size_is_the_file_per_table_tablespaces(mysql_box):
    db = mysql_box.create_database("alloc-dash", tables=2, rows=500)  # a "-" is encoded as @002d on disk
    mysql_box.execute(f"CREATE TABLE `{db}`.legacy (id INT) ENGINE=MyISAM", f"INSERT INTO `{db}`.legacy VALUES (1)")
    with MySQLEngine(mysql_params(mysql_box)) as engine:
        result = engine.list_database_sizes()
    size = next(d for d in result.databases if d.name == db)

    directory = db.replace("-", "@002d")
    ((innodb,),) = mysql_box.execute(
        f"SELECT SUM(ALLOCATED_SIZE) FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE '{directory}/%'"
    )
    ((myisam, free),) = mysql_box.execute(
        "SELECT SUM(CASE WHEN ENGINE = 'MyISAM' THEN DATA_LENGTH + INDEX_LENGTH ELSE 0 END), SUM(DATA_FREE) "
        f"FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'"
    )
    assert int(innodb) > 0
    assert size.allocated_size_bytes == int(innodb) + int(myisam)
    assert size.free_size_bytes == int(free)
    assert not [w for w in result.warnings if "allocated" in w]


def test_mysql_without_process_privilege_has_no_allocated_size_and_a_note(mysql_box):
    db = mysql_box.create_database("noproc", tables=1, rows=10)
    user, password = mysql_box.create_login()  # SELECT on the sandbox only
    with MySQLEngine(mysql_params(mysql_box, user, password)) as engine:
        result = engine.list_database_sizes(tables=True)
    size = next(d for d in result.databases if d.name == db)
    assert size.allocated_size_bytes is None
    assert size.size_bytes > 0
    assert [t.table_name for t in result.tables[db]] == ["t0"]
    assert any("PROCESS" in w for w in result.warnings)


def test_mysql_without_a_statement_time_limit_collects_bounded_by_the_read_timeout(mysql_box, monkeypatch):
    """MySQL < 5.7.8 and MariaDB < 10.1 have no max_execution_time / max_statement_time."""
    db = mysql_box.create_database("old", tables=1, rows=10)
    real_execute = MySQLdb.cursors.Cursor.execute

    def old_server_execute(self, query, args=None):
        text = query.decode() if isinstance(query, bytes) else query
        if text.startswith(("SET SESSION max_statement_time", "SET SESSION max_execution_time")):
            variable = text.split()[2]
            raise MySQLdb.OperationalError(1193, f"Unknown system variable '{variable}'")
        return real_execute(self, query, args)

    monkeypatch.setattr(MySQLdb.cursors.Cursor, "execute", old_server_execute)
    connect = MySQLdb.connect
    seen = {}

    def spy_connect(**kwargs):
        seen.update(kwargs)
        return connect(**kwargs)

    monkeypatch.setattr("instances.engines.mysql.MySQLdb.connect", spy_connect)
    with MySQLEngine(mysql_params(mysql_box, query_timeout=17)) as engine:
        result = engine.list_database_sizes(tables=True)
    assert db in {d.name for d in result.databases}
    assert seen["read_timeout"] == 17
    assert any("socket read timeout" in w and "17" in w for w in result.warnings)


def test_mysql_other_set_failures_still_fail_the_connection(mysql_box, monkeypatch):
    real_execute = MySQLdb.cursors.Cursor.execute

    def refusing(self, query, args=None):
        if str(query).startswith("SET SESSION max_statement_time"):
            raise MySQLdb.OperationalError(2013, "Lost connection to server during query")
        return real_execute(self, query, args)

    monkeypatch.setattr(MySQLdb.cursors.Cursor, "execute", refusing)
    from instances.engines import EngineError

    with pytest.raises(EngineError) as info:
        with MySQLEngine(mysql_params(mysql_box)):
            pass
    assert info.value.kind == "timeout"


# --- PostgreSQL --------------------------------------------------------------------------------------


def _server_tables(box, db):
    rows = box.execute(
        "SELECT n.nspname, c.relname, pg_total_relation_size(c.oid), pg_indexes_size(c.oid), "
        "COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
        dbname=db,
    )
    return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in rows}


def test_postgres_tables_equal_pg_total_relation_size(pg_box):
    db = pg_box.create_database("tables", rows=3000)
    pg_box.execute(
        "CREATE SCHEMA app",
        "CREATE TABLE app.docs (id int PRIMARY KEY, body text)",
        # Random text does not compress, so it goes to TOAST.
        "INSERT INTO app.docs SELECT g, string_agg(md5(random()::text), '') FROM generate_series(1, 50) g, "
        "generate_series(1, 200) GROUP BY g",
        "CREATE INDEX ON t (v)",
        "CREATE MATERIALIZED VIEW app.summary AS SELECT count(*) AS n FROM t",
        "ANALYZE",
        dbname=db,
    )
    other = pg_box.create_database("other", rows=10)
    with PostgreSQLEngine(pg_params(pg_box)) as engine:
        server_sizes = pg_box.server_sizes()
        plain = engine.list_database_sizes()
        result = engine.list_database_sizes(tables=True, table_budget_seconds=60)

    # The size figures are the same statement with or without tables (a database's directory may
    # grow by a cache file between two reads, so they are compared with the server's own read).
    assert [d.name for d in plain.databases] == [d.name for d in result.databases]
    sizes = {d.name: d for d in plain.databases}
    for name, size in server_sizes.items():
        assert sizes[name].size_bytes == size
        assert sizes[name].allocated_size_bytes == size
    sizes = {d.name: d for d in result.databases}

    server = _server_tables(pg_box, db)
    tables = {(t.schema_name, t.table_name): t for t in result.tables[db]}
    assert set(tables) == set(server) == {("public", "t"), ("app", "docs"), ("app", "summary")}
    for key, (total, index, toast) in server.items():
        table = tables[key]
        assert table.total_size_bytes == total
        assert table.index_size_bytes == index
        assert table.lob_size_bytes == toast
        assert table.data_size_bytes + table.index_size_bytes + table.lob_size_bytes == total
    assert tables[("app", "docs")].lob_size_bytes > 0
    assert tables[("public", "t")].rows_estimate == 3000
    assert sum(t.total_size_bytes for t in tables.values()) <= sizes[db].size_bytes
    assert [t.table_name for t in result.tables[other]] == ["t"]


def test_postgres_table_budget_spent_keeps_sizes_and_names_what_was_left(pg_box):
    db = pg_box.create_database("budget", rows=10)
    with PostgreSQLEngine(pg_params(pg_box)) as engine:
        result = engine.list_database_sizes(tables=True, table_budget_seconds=0)
    assert db in {d.name for d in result.databases}
    assert result.tables == {}
    assert any("budget" in w and db in w for w in result.warnings)


def test_postgres_a_database_the_login_cannot_enter_is_noted_and_the_rest_are_read(pg_box):
    open_db = pg_box.create_database("open", rows=10)
    closing = pg_box.create_database("closing", rows=10)
    user, password = pg_box.create_login()

    class RevokedBetweenSizesAndTables(PostgreSQLEngine):
        def _list_database_sizes(self):
            result = super()._list_database_sizes()
            pg_box.execute(f'REVOKE CONNECT ON DATABASE "{closing}" FROM PUBLIC')
            return result

    with RevokedBetweenSizesAndTables(pg_params(pg_box, user, password)) as engine:
        result = engine.list_database_sizes(tables=True, table_budget_seconds=60)
    assert {open_db, closing} <= {d.name for d in result.databases}
    assert [t.table_name for t in result.tables[open_db]] == ["t"]
    assert closing not in result.tables
    assert any(closing in w and "cannot enter" in w for w in result.warnings)


def test_postgres_a_database_that_stopped_allowing_connections_is_noted(pg_box):
    open_db = pg_box.create_database("open", rows=10)
    closing = pg_box.create_database("closing", rows=10)

    class ClosedBetweenSizesAndTables(PostgreSQLEngine):
        def _list_database_sizes(self):
            result = super()._list_database_sizes()
            pg_box.execute(f'ALTER DATABASE "{closing}" ALLOW_CONNECTIONS false')
            return result

    try:
        with ClosedBetweenSizesAndTables(pg_params(pg_box)) as engine:
            result = engine.list_database_sizes(tables=True, table_budget_seconds=60)
    finally:
        pg_box.execute(f'ALTER DATABASE "{closing}" ALLOW_CONNECTIONS true')
    assert open_db in result.tables and closing not in result.tables
    assert any(closing in w and "not currently accepting connections" in w for w in result.warnings)


def test_postgres_database_without_connect_is_still_skipped_when_tables_are_asked(pg_box):
    locked = pg_box.create_database("locked", rows=10)
    user, password = pg_box.create_login()
    pg_box.execute(f'REVOKE CONNECT ON DATABASE "{locked}" FROM PUBLIC')
    with PostgreSQLEngine(pg_params(pg_box, user, password)) as engine:
        result = engine.list_database_sizes(tables=True)
    assert locked in result.skipped
    assert locked not in result.tables
    assert any(locked in w for w in result.warnings)
