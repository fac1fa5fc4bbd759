"""Table sizes collected from the real MariaDB and PostgreSQL servers and saved as history."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from capacity.models import DatabaseSizeStat, TableSizeStat
from capacity.services.collect import collect
from sync_sessions.choices import SessionStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _kept(instance, database):
    return {
        (r.schema_name, r.table_name): r
        for r in TableSizeStat.objects.filter(instance=instance, database_name=database, is_other=False)
    }


def _other(instance, database):
    return TableSizeStat.objects.get(instance=instance, database_name=database, is_other=True)


@override_settings(CAPACITY_TABLES_TOP_N=2)
def test_mysql_tables_equal_information_schema_and_sum_to_the_database(mysql_box, mysql_instance):
    db = mysql_box.create_database("shop", tables=4, rows=300)
    mysql_box.execute(f"INSERT INTO `{db}`.t0 (v) SELECT v FROM `{db}`.t1", f"ANALYZE TABLE `{db}`.t0")
    mysql_instance.collect_tables = True
    mysql_instance.save()
    session = collect([mysql_instance])
    assert session.status == SessionStatus.COMPLETED, list(session.records.values("error", "warnings"))

    server = {
        name: (int(rows), int(data), int(index))
        for name, rows, data, index in mysql_box.execute(
            "SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = '{db}'"
        )
    }
    kept = _kept(mysql_instance, db)
    assert len(kept) == 2
    for (schema, name), row in kept.items():
        assert schema == db
        assert (row.rows_estimate, row.data_size_bytes, row.index_size_bytes) == server[name]
        assert row.total_size_bytes == server[name][1] + server[name][2]
    largest = sorted(server, key=lambda n: (-(server[n][1] + server[n][2]), n))[:2]
    assert {name for _s, name in kept} == set(largest)
    other = _other(mysql_instance, db)
    assert other.table_count == 2
    stored = sum(r.total_size_bytes for r in kept.values()) + other.total_size_bytes
    assert stored == DatabaseSizeStat.objects.get(instance=mysql_instance, database_name=db).size_bytes


@override_settings(CAPACITY_TABLES_TOP_N=20)
def test_postgres_tables_equal_pg_total_relation_size_and_a_second_run_replaces_the_day(pg_box, pg_instance):
    db = pg_box.create_database("shop", rows=2000)
    pg_box.execute("CREATE TABLE gone (id int)", "INSERT INTO gone SELECT generate_series(1, 100)", dbname=db)
    pg_instance.collect_tables = True
    pg_instance.save()
    assert collect([pg_instance]).status == SessionStatus.COMPLETED

    server = dict(
        pg_box.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace",
            dbname=db,
        )
    )
    kept = _kept(pg_instance, db)
    assert {name: row.total_size_bytes for (_s, name), row in kept.items()} == server
    assert _other(pg_instance, db).total_size_bytes == 0

    # Yesterday's rows stay when today's are replaced; a dropped table leaves today's set.
    yesterday = timezone.localdate() - timedelta(days=1)
    TableSizeStat.objects.filter(instance=pg_instance).update(collected_date=yesterday)
    DatabaseSizeStat.objects.filter(instance=pg_instance).update(collected_date=yesterday)
    assert collect([pg_instance]).status == SessionStatus.COMPLETED
    pg_box.execute("DROP TABLE gone", dbname=db)
    assert collect([pg_instance]).status == SessionStatus.COMPLETED
    today = TableSizeStat.objects.filter(instance=pg_instance, database_name=db, collected_date=timezone.localdate())
    assert set(today.filter(is_other=False).values_list("table_name", flat=True)) == {"t"}
    before = TableSizeStat.objects.filter(instance=pg_instance, database_name=db, collected_date=yesterday)
    assert set(before.filter(is_other=False).values_list("table_name", flat=True)) == {"t", "gone"}


def test_postgres_table_budget_spent_keeps_the_sizes_with_a_warning(pg_box, pg_instance):
    db = pg_box.create_database("budget", rows=10)
    pg_instance.collect_tables = True
    pg_instance.save()
    with override_settings(CAPACITY_TABLES_BUDGET_SECONDS=0):
        session = collect([pg_instance])
    record = session.records.get()
    assert session.status == SessionStatus.COMPLETED, record.error
    assert DatabaseSizeStat.objects.filter(instance=pg_instance, database_name=db).exists()
    assert any("budget" in w for w in record.warnings), record.warnings
    assert not TableSizeStat.objects.filter(instance=pg_instance).exists()


def test_tables_follow_the_setting_unless_the_instance_says(pg_box, pg_instance):
    pg_box.create_database("opt", rows=10)
    with override_settings(CAPACITY_COLLECT_TABLES=False):
        collect([pg_instance])
    assert not TableSizeStat.objects.exists()
    with override_settings(CAPACITY_COLLECT_TABLES=True):
        collect([pg_instance])
    assert TableSizeStat.objects.filter(instance=pg_instance).exists()
    pg_instance.collect_tables = False
    pg_instance.save()
    TableSizeStat.objects.all().delete()
    with override_settings(CAPACITY_COLLECT_TABLES=True):
        collect([pg_instance])
    assert not TableSizeStat.objects.exists()
