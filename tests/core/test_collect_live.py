"""Collection against the real local MariaDB and PostgreSQL servers."""

import pytest
from django.utils import timezone

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from capacity.services.collect import collect
from sync_sessions.choices import RecordStatus, SessionStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _stats(instance):
    return {s.database_name: s for s in DatabaseSizeStat.objects.filter(instance=instance)}


def test_mysql_sizes_match_information_schema(mysql_box, mysql_instance):
    small = mysql_box.create_database("small", tables=1, rows=10)
    big = mysql_box.create_database("big", tables=3, rows=2000)
    empty = mysql_box.create_database("empty", tables=0)
    session = collect([mysql_instance])
    assert session.status == SessionStatus.COMPLETED, list(session.records.values("error"))
    server = mysql_box.server_sizes()
    stats = _stats(mysql_instance)
    for db in (small, big):
        data, index = server[db]
        assert stats[db].data_size_bytes == data
        assert stats[db].index_size_bytes == index
        assert stats[db].size_bytes == data + index
    assert stats[empty].size_bytes == 0
    assert stats[big].size_bytes > stats[small].size_bytes
    total = InstanceSizeStat.objects.get(instance=mysql_instance)
    assert total.total_size_bytes == sum(s.size_bytes for s in stats.values())
    assert total.database_count == len(stats)
    assert total.collected_date == timezone.localdate()
    mysql_instance.refresh_from_db()
    assert mysql_instance.last_connected is not None


def test_postgres_sizes_match_pg_database_size(pg_box, pg_instance):
    a = pg_box.create_database("a", rows=5000)
    b = pg_box.create_database("b", rows=10)
    session = collect([pg_instance])
    assert session.status == SessionStatus.COMPLETED, list(session.records.values("error"))
    server = pg_box.server_sizes()
    stats = _stats(pg_instance)
    assert stats[a].size_bytes == server[a]
    assert stats[b].size_bytes == server[b]
    assert stats[a].size_bytes > stats[b].size_bytes


def test_second_run_same_day_adds_no_rows(pg_box, pg_instance):
    """One row per database and day, and one total per day, however often the day is collected.

    The instance is the whole server, which other test processes share: a database of theirs may
    come or go between the two runs, so rows are counted per database rather than in all.
    """
    db = pg_box.create_database("x", rows=10)
    collect([pg_instance])
    collect([pg_instance])
    rows = DatabaseSizeStat.objects.filter(instance=pg_instance)
    assert rows.filter(database_name=db).count() == 1
    assert rows.count() == rows.values("database_name").distinct().count()
    assert InstanceSizeStat.objects.filter(instance=pg_instance).count() == 1


def test_dropped_database_is_marked_deleted_and_restored(mysql_box, mysql_instance):
    keep = mysql_box.create_database("keep", rows=10)
    gone = mysql_box.create_database("gone", rows=10)
    collect([mysql_instance])
    mysql_box.drop_database(gone)
    session = collect([mysql_instance])
    record = session.records.get()
    assert record.deleted_count == 1
    row = DatabaseSizeStat.objects.get(instance=mysql_instance, database_name=gone)
    assert row.is_deleted and row.deleted_at is not None
    assert not DatabaseSizeStat.objects.get(instance=mysql_instance, database_name=keep).is_deleted
    assert DatabaseInventory.objects.get(instance=mysql_instance, database_name=gone).is_deleted
    total = InstanceSizeStat.objects.get(instance=mysql_instance)
    assert total.database_count == DatabaseSizeStat.objects.filter(instance=mysql_instance, is_deleted=False).count()

    mysql_box.create_database("gone", rows=10)
    collect([mysql_instance])
    row.refresh_from_db()
    assert not row.is_deleted and row.deleted_at is None
    inventory = DatabaseInventory.objects.get(instance=mysql_instance, database_name=gone)
    assert not inventory.is_deleted and inventory.restored_at is not None


def test_one_failure_does_not_stop_the_others(mysql_box, mysql_instance, pg_box, pg_instance, make_instance):
    mysql_box.create_database("ok", rows=10)
    wrong = make_instance(
        "wrong-password",
        "mysql",
        port=mysql_box.port,
        username=mysql_box.create_login()[0],
        password="not-the-password",
    )
    # The local PostgreSQL trusts loopback logins, so an unknown role is its authentication failure.
    no_role = make_instance("no-role", "postgresql", port=pg_box.port, username=pg_box.name("nobody"))
    closed = make_instance("closed-port", "mysql", port=1)
    session = collect([mysql_instance, pg_instance, wrong, no_role, closed], concurrency=4)
    records = {r.instance_name: r for r in session.records.all()}
    assert session.status == SessionStatus.PARTIAL
    assert records[mysql_instance.name].status == RecordStatus.COMPLETED
    assert records[pg_instance.name].status == RecordStatus.COMPLETED
    assert records["wrong-password"].status == RecordStatus.FAILED
    assert records["wrong-password"].error_kind == "auth"
    # One message, the server's own: it names the login once ("Access denied for user '…'@'…'").
    login = wrong.credential.username
    assert records["wrong-password"].error.startswith("Access denied for user")
    assert records["wrong-password"].error.count(login) == 1, records["wrong-password"].error
    assert records["no-role"].error_kind == "auth"
    assert records["closed-port"].error_kind == "connection"
    for name in ("wrong-password", "no-role", "closed-port"):
        assert "\n" not in records[name].error and records[name].error
        assert "not-the-password" not in records[name].error


def test_login_without_grants_is_a_permission_error(mysql_box, make_instance):
    mysql_box.create_database("hidden", rows=10)
    user, password = mysql_box.create_login(grant_all_sandbox=False)
    inst = make_instance("no-grants", "mysql", port=mysql_box.port, username=user, password=password)
    session = collect([inst])
    record = session.records.get()
    assert session.status == SessionStatus.FAILED
    assert record.error_kind == "permission"
    assert not DatabaseSizeStat.objects.filter(instance=inst).exists()
