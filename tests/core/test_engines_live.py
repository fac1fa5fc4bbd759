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


# --- unreadable is not gone -------------------------------------------------------------------------


def test_postgres_database_that_refuses_connections_is_measured_not_dropped(pg_box):
    closed = pg_box.create_database("noconn", rows=200)
    pg_box.execute(f'ALTER DATABASE "{closed}" ALLOW_CONNECTIONS false')
    user, password = pg_box.create_login()
    with PostgreSQLEngine(ConnectionParams("127.0.0.1", pg_box.port, user, password)) as engine:
        result = engine.list_database_sizes()
    sizes = {d.name: d for d in result.databases}
    assert closed in sizes and closed not in result.skipped
    assert sizes[closed].size_bytes == pg_box.server_sizes()[closed]
    assert not sizes[closed].is_system
    # Templates stay out of the user databases, as system databases always were.
    assert not {"template0", "template1"} & (set(sizes) | set(result.skipped))
    assert sizes["postgres"].is_system
    assert result.listing_complete


def test_postgres_login_with_pg_read_all_stats_measures_databases_it_may_not_connect_to(pg_box):
    locked = pg_box.create_database("locked", rows=10)
    user, password = pg_box.create_login()
    pg_box.execute(f'REVOKE CONNECT ON DATABASE "{locked}" FROM PUBLIC', f'GRANT pg_read_all_stats TO "{user}"')
    with PostgreSQLEngine(ConnectionParams("127.0.0.1", pg_box.port, user, password)) as engine:
        result = engine.list_database_sizes()
    sizes = {d.name: d.size_bytes for d in result.databases}
    assert sizes[locked] == pg_box.server_sizes()[locked]
    assert locked not in result.skipped


@pytest.mark.django_db(transaction=True)
def test_postgres_database_that_refuses_connections_stays_live_in_the_collection(pg_box, pg_instance):
    from capacity.models import DatabaseSizeStat
    from capacity.services.collect import collect

    closed = pg_box.create_database("noconn", rows=50)
    collect([pg_instance])
    pg_box.execute(f'ALTER DATABASE "{closed}" ALLOW_CONNECTIONS false')
    collect([pg_instance])
    rows = DatabaseSizeStat.objects.filter(instance=pg_instance, database_name=closed)
    assert [(r.is_deleted, r.size_bytes) for r in rows] == [(False, pg_box.server_sizes()[closed])]


def _mysql_login(box, *, show_databases: bool, schemas=()) -> tuple[str, str]:
    user, password = box.create_login(grant_all_sandbox=False)
    grants = [f"GRANT SELECT ON `{db}`.* TO '{user}'@'%'" for db in schemas]
    if show_databases:
        grants.append(f"GRANT SHOW DATABASES ON *.* TO '{user}'@'%'")
    box.execute(*grants)
    return user, password


def _mysql_collect(box, user, password):
    with MySQLEngine(ConnectionParams("127.0.0.1", box.port, user, password)) as engine:
        return engine.list_database_sizes()


def test_mysql_schema_whose_grant_was_revoked_is_skipped_not_missing(mysql_box):
    kept = mysql_box.create_database("kept", rows=50)
    revoked = mysql_box.create_database("revoked", rows=50)
    empty = mysql_box.create_database("empty", tables=0, rows=0)
    user, password = _mysql_login(mysql_box, show_databases=True, schemas=(kept, revoked, empty))

    before = _mysql_collect(mysql_box, user, password)
    names = {d.name for d in before.databases}
    assert {kept, revoked, empty} <= names
    assert before.listing_complete

    mysql_box.execute(f"REVOKE SELECT ON `{revoked}`.* FROM '{user}'@'%'")
    after = _mysql_collect(mysql_box, user, password)
    sizes = {d.name: d for d in after.databases}
    assert revoked in after.skipped and revoked not in sizes
    assert sizes[kept].size_bytes == sum(mysql_box.server_sizes()[kept])
    # A schema the login may read that holds no table is empty, not unreadable.
    assert sizes[empty].size_bytes == 0 and empty not in after.skipped
    assert after.listing_complete
    [warning] = [w for w in after.warnings if revoked in w]
    assert "GRANT SELECT, PROCESS, SHOW DATABASES ON *.*" in warning


def test_mysql_login_without_show_databases_has_an_incomplete_listing(mysql_box):
    kept = mysql_box.create_database("kept", rows=20)
    revoked = mysql_box.create_database("revoked", rows=20)
    user, password = _mysql_login(mysql_box, show_databases=False, schemas=(kept, revoked))
    mysql_box.execute(f"REVOKE SELECT ON `{revoked}`.* FROM '{user}'@'%'")

    result = _mysql_collect(mysql_box, user, password)
    # The login cannot even see the revoked schema: the listing says it may be incomplete.
    assert revoked not in {d.name for d in result.databases} | set(result.skipped)
    assert kept in {d.name for d in result.databases}
    assert result.listing_complete is False
    assert any("SHOW DATABASES" in w and "GRANT SELECT, PROCESS, SHOW DATABASES ON *.*" in w for w in result.warnings)


def test_mysql_login_with_the_recommended_grants_measures_everything(mysql_box):
    db = mysql_box.create_database("all", rows=20)
    user, password = mysql_box.create_login(grant_all_sandbox=False)
    mysql_box.execute(f"GRANT SELECT, PROCESS, SHOW DATABASES ON *.* TO '{user}'@'%'")
    result = _mysql_collect(mysql_box, user, password)
    assert result.listing_complete
    assert result.skipped == []
    assert not any("SHOW DATABASES" in w for w in result.warnings)
    sizes = {d.name: d for d in result.databases}
    assert sizes[db].size_bytes == sum(mysql_box.server_sizes()[db])
    assert {"mysql", "information_schema"} <= set(sizes)
