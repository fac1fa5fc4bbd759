"""Saving table sizes, fed with synthetic catalog results: what is kept, the "other" row, replacing a day."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from capacity.models import DatabaseSizeStat, TableSizeStat
from capacity.services.collect import save_sizes
from instances.engines import CollectResult, DatabaseSize, TableSize

pytestmark = pytest.mark.django_db

DAY1 = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def table(name, total, schema="public", rows=10):
    return TableSize(schema, name, rows, total - total // 4, total // 4, None, total)


def result(tables: dict[str, list[TableSize]], allocated=None) -> CollectResult:
    return CollectResult(
        databases=[
            DatabaseSize(
                name=name,
                size_bytes=sum(t.total_size_bytes for t in ts),
                data_size_bytes=sum(t.data_size_bytes for t in ts),
                index_size_bytes=sum(t.index_size_bytes for t in ts),
                allocated_size_bytes=allocated,
            )
            for name, ts in tables.items()
        ],
        tables=tables,
    )


@pytest.fixture
def instance(make_instance):
    return make_instance("inst", "postgresql")


@override_settings(CAPACITY_TABLES_TOP_N=3)
def test_top_n_and_other_row_sum_to_the_database(instance):
    tables = [table(f"t{i}", 1000 * (i + 1)) for i in range(10)]
    save_sizes(instance, result({"app": tables}), DAY1)
    rows = list(TableSizeStat.objects.filter(instance=instance, is_other=False).order_by("-total_size_bytes"))
    assert [r.table_name for r in rows] == ["t9", "t8", "t7"]
    other = TableSizeStat.objects.get(instance=instance, is_other=True)
    assert other.table_count == 7 and other.schema_name == other.table_name == ""
    assert other.total_size_bytes == sum(1000 * (i + 1) for i in range(7))
    stored = sum(TableSizeStat.objects.filter(instance=instance).values_list("total_size_bytes", flat=True))
    assert stored == DatabaseSizeStat.objects.get(instance=instance).size_bytes


@override_settings(CAPACITY_TABLES_TOP_N=2)
def test_a_small_table_growing_fast_is_kept_beside_the_largest(instance):
    day1 = [table("big1", 10_000), table("big2", 9_000), table("small", 100), table("still", 200)]
    save_sizes(instance, result({"app": day1}), DAY1)
    assert not TableSizeStat.objects.filter(table_name="small").exists()
    day2 = [table("big1", 10_000), table("big2", 9_000), table("small", 900), table("still", 200)]
    save_sizes(instance, result({"app": day2}), DAY2)
    kept = set(
        TableSizeStat.objects.filter(collected_date=DAY2.date(), is_other=False).values_list("table_name", flat=True)
    )
    assert kept == {"big1", "big2", "small"}
    other = TableSizeStat.objects.get(collected_date=DAY2.date(), is_other=True)
    assert other.total_size_bytes == 200 and other.table_count == 1


@override_settings(CAPACITY_TABLES_TOP_N=5)
def test_a_second_run_the_same_day_replaces_the_set_and_history_stays(instance):
    save_sizes(instance, result({"app": [table("a", 100), table("b", 50)]}), DAY1)
    save_sizes(instance, result({"app": [table("a", 110), table("b", 60)]}), DAY2)
    save_sizes(instance, result({"app": [table("a", 120)]}), DAY2.replace(hour=18))
    day2 = TableSizeStat.objects.filter(collected_date=DAY2.date())
    assert sorted(day2.values_list("table_name", "total_size_bytes")) == [("", 0), ("a", 120)]
    assert TableSizeStat.objects.filter(collected_date=DAY1.date()).count() == 3  # a, b, other


def test_databases_whose_tables_were_not_read_keep_the_days_rows(instance):
    save_sizes(instance, result({"a": [table("x", 10)], "b": [table("y", 20)]}), DAY1)
    partial = result({"a": [table("x", 11)], "b": [table("y", 21)]})
    del partial.tables["b"]
    partial.warnings.append("Table sizes budget spent; tables not read in b.")
    save_sizes(instance, partial, DAY1.replace(hour=13))
    assert TableSizeStat.objects.get(database_name="a", table_name="x").total_size_bytes == 11
    assert TableSizeStat.objects.get(database_name="b", table_name="y").total_size_bytes == 20
    assert DatabaseSizeStat.objects.get(database_name="b").size_bytes == 21


def test_allocated_size_is_stored(instance):
    save_sizes(instance, result({"a": [table("x", 10)]}, allocated=4096), DAY1)
    assert DatabaseSizeStat.objects.get(database_name="a").allocated_size_bytes == 4096
    assert instance.inventory.get(database_name="a").last_allocated_size_bytes == 4096


def _count_queries(instance, n):
    tables = {f"db{d}": [table(f"t{i}", 1000 + i) for i in range(n)] for d in range(3)}
    counts = []
    for when in (DAY1, DAY1, DAY2):
        with CaptureQueriesContext(connection) as ctx:
            save_sizes(instance, result(tables), when)
        counts.append(len(ctx))
    return counts


def test_query_count_of_the_save_is_the_same_at_10_and_1000_tables(make_instance):
    small = _count_queries(make_instance("ten", "postgresql"), 10)
    large = _count_queries(make_instance("thousand", "postgresql"), 1000)
    assert small == large, (small, large)
    plain = make_instance("plain", "postgresql")
    with CaptureQueriesContext(connection) as ctx:
        save_sizes(plain, CollectResult(databases=[DatabaseSize("a", 1, 1)]), DAY1)
    # The tables add three queries: the previous collection, the day's delete, the insert.
    assert small[0] == len(ctx) + 3, (small, len(ctx))
