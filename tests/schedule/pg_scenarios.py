"""Checks that only mean something on PostgreSQL: the partitioned history table and its upkeep.

Each scenario runs against the default database and raises AssertionError when something is
off. test_partitions.py runs them in-process when the platform database is PostgreSQL, and
otherwise in a subprocess against a throwaway PostgreSQL database that `migrate` just built:

    DATABASE_URL=postgres://... python -m tests.schedule.pg_scenarios NAME

In that mode every scenario runs in a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import os
import secrets
import sys
import traceback
import uuid
from datetime import timedelta

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def _instance(label: str):
    from instances.models import Instance

    return Instance.objects.create(name=f"pg-{label}-{secrets.token_hex(3)}", db_type="postgresql", host="127.0.0.1")


def _partitions(cursor) -> dict[str, str]:
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'capacity_databasesizestat'::regclass"
    )
    return dict(cursor.fetchall())


def _row_partitions(cursor, instance) -> set[str]:
    cursor.execute(
        "SELECT DISTINCT tableoid::regclass::text FROM capacity_databasesizestat WHERE instance_id = %s", [instance.pk]
    )
    return {row[0] for row in cursor.fetchall()}


@scenario
def partitioned_by_month():
    from django.db import connection
    from django.utils import timezone

    from capacity.services.partitions import DEFAULT_PARTITION, partition_name
    from capacity.services.periods import add_months

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'capacity_databasesizestat'::regclass"
        )
        assert cursor.fetchone() == ("r", "collected_date"), "not range-partitioned on collected_date"

        parts = _partitions(cursor)
        this_month = timezone.localdate().replace(day=1)
        for ahead in range(4):
            month = add_months(this_month, ahead)
            bound = f"FOR VALUES FROM ('{month.isoformat()}') TO ('{add_months(month, 1).isoformat()}')"
            assert parts.get(partition_name(month)) == bound, (partition_name(month), parts)
        assert parts.get(DEFAULT_PARTITION) == "DEFAULT", parts

        cursor.execute(
            "SELECT array_agg(a.attname::text ORDER BY k.n) FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = 'capacity_databasesizestat'::regclass AND i.indisprimary"
        )
        assert cursor.fetchone()[0] == ["id", "collected_date"]

        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'capacity_databasesizestat'::regclass ORDER BY conname"
        )
        constraints = {name: (kind, definition) for name, kind, definition in cursor.fetchall()}
        assert constraints["dbsize_unique_per_day"] == ("u", "UNIQUE (instance_id, database_name, collected_date)")
        assert any(kind == "f" and "instances_instance(id)" in d for kind, d in constraints.values()), constraints

        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'capacity_databasesizestat'")
        indexes = {row[0] for row in cursor.fetchall()}
        assert {"dbsize_instance_date", "dbsize_date", "dbsize_unique_per_day"} <= indexes, indexes
    return {"partitions": len(parts)}


@scenario
def collector_upserts_into_the_month_partition():
    from django.db import connection
    from django.utils import timezone

    from capacity.models import DatabaseSizeStat, InstanceSizeStat
    from capacity.services.collect import save_sizes
    from capacity.services.partitions import partition_name
    from instances.engines import CollectResult, DatabaseSize

    inst = _instance("upsert")
    first = save_sizes(
        inst,
        CollectResult(
            [DatabaseSize("app", 1000, 800, 200), DatabaseSize("gone_tomorrow", 50, 50), DatabaseSize("log", 7, 7)]
        ),
    )
    assert first.saved_count == 3
    ids = dict(DatabaseSizeStat.objects.filter(instance=inst).values_list("database_name", "pk"))
    # The same day again: the unique (instance, database_name, collected_date) upsert updates in place.
    second = save_sizes(inst, CollectResult([DatabaseSize("app", 1500, 1200, 300), DatabaseSize("log", 9, 9)]))
    assert second.deleted_count == 1
    rows = {r.database_name: r for r in DatabaseSizeStat.objects.filter(instance=inst)}
    assert set(rows) == {"app", "gone_tomorrow", "log"}
    assert {name: r.pk for name, r in rows.items()} == ids, "the upsert must keep the rows, not add new ones"
    assert rows["app"].size_bytes == 1500 and rows["app"].index_size_bytes == 300
    assert rows["gone_tomorrow"].is_deleted and rows["gone_tomorrow"].size_bytes == 50
    assert InstanceSizeStat.objects.get(instance=inst).total_size_bytes == 1509
    with connection.cursor() as cursor:
        assert _row_partitions(cursor, inst) == {partition_name(timezone.localdate().replace(day=1))}

    # Django still treats `id` as the primary key: get, save and delete by pk work.
    row = DatabaseSizeStat.objects.get(pk=rows["log"].pk)
    row.size_bytes = 11
    row.save()
    assert DatabaseSizeStat.objects.get(pk=row.pk).size_bytes == 11
    DatabaseSizeStat.objects.filter(pk=row.pk).delete()
    assert not DatabaseSizeStat.objects.filter(pk=row.pk).exists()
    return {"rows": len(rows)}


@scenario
def rows_of_a_month_without_partition_land_in_default_and_move_out():
    from django.db import connection
    from django.utils import timezone

    from capacity.models import DatabaseSizeStat
    from capacity.services.partitions import DEFAULT_PARTITION, ensure_partitions, partition_name
    from capacity.services.periods import add_months
    from tests.factories import at, record_collection

    inst = _instance("default")
    far = add_months(timezone.localdate().replace(day=1), 30)
    for n in range(3):  # three nights of that month, through the collection service
        record_collection(inst, at(far + timedelta(days=n)), {"db": n})
    with connection.cursor() as cursor:
        assert _row_partitions(cursor, inst) == {DEFAULT_PARTITION}
        assert ensure_partitions(far, far) == [partition_name(far)]
        assert _row_partitions(cursor, inst) == {partition_name(far)}
        assert ensure_partitions(far, far) == []  # idempotent
        parts = _partitions(cursor)
    assert parts[partition_name(far)] == (
        f"FOR VALUES FROM ('{far.isoformat()}') TO ('{add_months(far, 1).isoformat()}')"
    )
    assert DatabaseSizeStat.objects.filter(instance=inst).count() == 3
    return {"moved": 3}


@scenario
def cleanup_drops_whole_months_and_trims_the_boundary_month():
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from capacity.models import DatabaseSizeAggregate, DatabaseSizeStat, InstanceSizeStat
    from capacity.services.aggregate import run_aggregation
    from capacity.services.partitions import ensure_partitions, partition_name
    from capacity.services.periods import add_months
    from capacity.services.retention import run_retention
    from tests.schedule.helpers import make_rows

    today = timezone.localdate()
    first = add_months(today.replace(day=1), -15)
    assert ensure_partitions(first, today)
    inst = _instance("retention")
    make_rows(inst, ["orders", "billing"], first, today)
    run_aggregation()
    aggregates = DatabaseSizeAggregate.objects.count()

    with override_settings(CAPACITY_RETENTION_DAYS=365):
        cutoff = today - timedelta(days=365)
        old = DatabaseSizeStat.objects.filter(collected_date__lt=cutoff).count()
        kept = DatabaseSizeStat.objects.filter(collected_date__gte=cutoff).count()
        whole_months = []
        month = first
        while add_months(month, 1) <= cutoff:
            whole_months.append(partition_name(month))
            month = add_months(month, 1)
        assert whole_months, "the test data must span months wholly past retention"

        result = run_retention()

    assert result.method == "partitions"
    assert [p["name"] for p in result.partitions_dropped] == whole_months
    assert result.database_size_rows_deleted == old
    assert sum(p["rows"] for p in result.partitions_dropped) < old or cutoff.day == 1, (
        "the boundary month's older rows are deleted row by row"
    )
    assert not DatabaseSizeStat.objects.filter(collected_date__lt=cutoff).exists()
    assert DatabaseSizeStat.objects.count() == kept
    assert not InstanceSizeStat.objects.filter(collected_date__lt=cutoff).exists()
    with connection.cursor() as cursor:
        parts = _partitions(cursor)
        for name in whole_months:
            assert name not in parts
            cursor.execute("SELECT to_regclass(%s)", [name])
            assert cursor.fetchone()[0] is None, f"{name} was detached but not dropped"
        assert partition_name(cutoff.replace(day=1)) in parts
    assert DatabaseSizeAggregate.objects.count() == aggregates
    return {"dropped": len(whole_months), "rows": old}


@scenario
def daily_job_creates_the_coming_months():
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from capacity.services.partitions import partition_name, partition_state
    from capacity.services.periods import add_months
    from capacity.services.retention import run_retention

    this_month = timezone.localdate().replace(day=1)
    with connection.cursor() as cursor:
        for ahead in (2, 3, 4, 5):
            cursor.execute(f'DROP TABLE IF EXISTS "{partition_name(add_months(this_month, ahead))}"')
    state = partition_state()
    assert state["next_to_create"]["name"] == partition_name(add_months(this_month, 2))
    with override_settings(CAPACITY_PARTITION_MONTHS_AHEAD=5):
        result = run_retention()
    assert result.partitions_created == [partition_name(add_months(this_month, n)) for n in (2, 3, 4, 5)]
    with connection.cursor() as cursor:
        parts = _partitions(cursor)
    assert all(partition_name(add_months(this_month, n)) in parts for n in range(6))
    assert partition_state()["next_to_create"]["name"] == partition_name(add_months(this_month, 6))
    return {"created": result.partitions_created}


@scenario
def instance_lock_on_postgresql():
    from capacity.services.collect import acquire_instance_lock, collect_record, create_session
    from sync_sessions.choices import RecordStatus

    inst = _instance("lock")
    holder, other = uuid.uuid4(), uuid.uuid4()  # `other`: a second run that wants it too
    assert acquire_instance_lock(inst.pk, holder)
    assert acquire_instance_lock(inst.pk, holder)  # the holder may take it again
    assert not acquire_instance_lock(inst.pk, other)
    session = create_session([inst])
    record = session.records.get()
    collect_record(record)  # a new attempt of its own: the lock is held by `holder`
    record.refresh_from_db()
    assert record.status == RecordStatus.SKIPPED and "another run" in record.error
    return {"status": record.status}


@scenario
def aggregates_agree_on_postgresql():
    from datetime import date

    from capacity.models import DatabaseSizeAggregate
    from capacity.services.aggregate import aggregate
    from tests.schedule.helpers import days, expected_periods, make_rows, size_of

    inst = _instance("aggregate")
    first, last = date(2025, 1, 1), date(2025, 4, 15)
    make_rows(inst, ["orders"], first, last)
    aggregate(None, instance_ids=[inst.pk])
    for period_type in ("week", "month", "quarter"):
        expected = expected_periods({d: size_of("orders", d) for d in days(first, last)}, period_type)
        rows = DatabaseSizeAggregate.objects.filter(instance=inst, period_type=period_type)
        stored = {a.period_start: a for a in rows}
        assert set(stored) == set(expected), period_type
        for start, figures in expected.items():
            for field, value in figures.items():
                assert getattr(stored[start], field) == value, (period_type, start, field)
    return {"periods": DatabaseSizeAggregate.objects.filter(instance=inst).count()}


class _Rollback(Exception):
    pass


@scenario
def table_sizes_are_partitioned_and_retention_drops_their_months():
    from datetime import UTC, datetime

    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from capacity.models import TableSizeStat
    from capacity.services.collect import save_sizes
    from capacity.services.partitions import TABLE_SIZES, ensure_partitions, list_partitions, partition_name
    from capacity.services.periods import add_months
    from capacity.services.retention import run_retention
    from instances.engines import CollectResult, DatabaseSize, TableSize

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE_SIZES])
        assert cursor.fetchone(), "capacity_tablesizestat is not partitioned"
    today = timezone.localdate()
    old_month = add_months(today.replace(day=1), -14)
    ensure_partitions(old_month, today, table=TABLE_SIZES)
    inst = _instance("tables")
    for day in (old_month, today):
        when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        tables = {"app": [TableSize("public", "t", 1, 10, 5, None, 15)]}
        save_sizes(inst, CollectResult([DatabaseSize("app", 15, 10, 5)], tables=tables), when)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM capacity_tablesizestat WHERE instance_id = %s", [inst.pk]
        )
        homes = {row[0] for row in cursor.fetchall()}
    assert partition_name(old_month, TABLE_SIZES) in homes, homes
    with override_settings(CAPACITY_RETENTION_DAYS=365):
        result = run_retention()
    dropped = [p["name"] for p in result.table_partitions_dropped]
    assert partition_name(old_month, TABLE_SIZES) in dropped, dropped
    assert result.table_size_rows_deleted >= 2
    assert not TableSizeStat.objects.filter(instance=inst, collected_date=old_month).exists()
    assert TableSizeStat.objects.filter(instance=inst, collected_date=today).count() == 2
    assert partition_name(old_month, TABLE_SIZES) not in {p.name for p in list_partitions(table=TABLE_SIZES)}
    return {"dropped": dropped}


def run_isolated(name: str):
    """Run one scenario in a transaction that is rolled back afterwards."""
    from django.db import transaction

    outcome = {}
    try:
        with transaction.atomic():
            outcome["result"] = SCENARIOS[name]()
            raise _Rollback
    except _Rollback:
        pass
    return outcome["result"]


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_site.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print(f"needs PostgreSQL, DATABASE_URL points at {connection.vendor}", file=sys.stderr)
        return 2
    status = 0
    for name in argv or list(SCENARIOS):
        try:
            print(name, run_isolated(name))
        except Exception:
            traceback.print_exc()
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
