"""Read models for the "now" answers: what the inventory and the instance totals already know.

The daily history (DatabaseSizeStat) grows by databases x days; every function here costs the same
whatever the number of days kept. Each one is a keyed lookup on a unique index: an instance's newest
total (instance, collected_date), the rows of one day (instance, database, collected_date; on
PostgreSQL one monthly partition, pruned at plan time because the day is a constant), the inventory
(one row per database). Counts of the history become estimates once they are large.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils.functional import cached_property

from instances.models import Instance

from ..models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat

# Up to this many rows a count is exact (bounded work: the count stops reading there); past it, an estimate.
EXACT_COUNT_LIMIT = 10_000
# latest_rows looks for each database's newest row within this many days of the newest row first.
RECENT_DAYS = 31


# --- the instances' newest collection -------------------------------------------------------------


def _newest_total(day: date | None = None):
    rows = InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False)
    if day is not None:
        rows = rows.filter(collected_date__lte=day)
    return rows.order_by("-collected_date")


def latest_collection_date(instance: Instance) -> date | None:
    """The day of the instance's newest collection (one backward probe of the totals' unique index)."""
    return (
        InstanceSizeStat.objects.filter(instance=instance, is_deleted=False)
        .order_by("-collected_date")
        .values_list("collected_date", flat=True)
        .first()
    )


def collection_dates_on_or_before(day: date, instance_ids: Iterable[int] | None = None) -> dict[int, date]:
    """Each instance's newest collection day on or before `day`: one probe per instance."""
    instances = Instance.objects.order_by()
    if instance_ids is not None:
        instances = instances.filter(pk__in=list(instance_ids))
    rows = instances.annotate(on=Subquery(_newest_total(day).values("collected_date")[:1])).values_list("pk", "on")
    return {pk: on for pk, on in rows if on is not None}


def latest_collected_at() -> object | None:
    """When the newest collection of any instance was saved: the rows of the newest day only."""
    newest_day = InstanceSizeStat.objects.order_by("-collected_date").values("collected_date")[:1]
    return InstanceSizeStat.objects.filter(collected_date=Subquery(newest_day)).aggregate(at=Max("collected_at"))["at"]


# --- rows of given days ---------------------------------------------------------------------------


def on_days(dates: dict[int, date]) -> Q | None:
    """{instance id: day} as a filter of daily rows, one term per distinct day ("these instances on that
    day"): constant days prune partitions. None for no instances."""
    grouped: dict[date, list[int]] = defaultdict(list)
    for instance_id, day in dates.items():
        grouped[day].append(instance_id)
    condition = None
    for day, instance_ids in sorted(grouped.items()):
        term = Q(collected_date=day, instance_id__in=sorted(instance_ids))
        condition = term if condition is None else condition | term
    return condition


def database_sizes_on(day: date, instance_ids: Iterable[int] | None = None) -> dict[tuple[int, str], int]:
    """{(instance id, database): bytes} as of each instance's newest collection on or before `day`.

    Two queries whatever the history: the collection days (one probe per instance), then the rows of
    those days. A database absent from that collection has no entry (its growth is unknown).
    """
    condition = on_days(collection_dates_on_or_before(day, instance_ids))
    if condition is None:
        return {}
    rows = (
        DatabaseSizeStat.objects.filter(condition).order_by().values_list("instance_id", "database_name", "size_bytes")
    )
    return {(instance_id, name): size for instance_id, name, size in rows}


def with_database_growth(inventory: QuerySet, today: date, windows: Iterable[int]) -> list[DatabaseInventory]:
    """Inventory rows carrying `size_{n}d_ago` and `growth_{n}d_bytes` for each window of n days.

    The sizes n days ago are keyed lookups of those days (see database_sizes_on), not a search of
    each database's history.
    """
    rows = list(inventory)
    instance_ids = {row.instance_id for row in rows}
    for days in windows:
        sizes = database_sizes_on(today - timedelta(days=days), instance_ids) if rows else {}
        for row in rows:
            before = sizes.get((row.instance_id, row.database_name))
            setattr(row, f"size_{days}d_ago", before)
            setattr(row, f"growth_{days}d_bytes", None if before is None else row.last_size_bytes - before)
    return rows


def fastest_growing_databases(today: date, days: int, limit: int) -> dict[int, int]:
    """{inventory pk: growth in bytes over `days`} of the `limit` live databases that grew most, largest first.

    The sizes `days` ago are the rows of each instance's collection day then (keyed reads, as in
    database_sizes_on); the database joins them to the inventory and ranks, so only `limit` rows
    come back whatever the number of databases.
    """
    condition = on_days(collection_dates_on_or_before(today - timedelta(days=days)))
    if condition is None:
        return {}
    then = DatabaseSizeStat.objects.filter(condition).order_by().values("instance_id", "database_name", "size_bytes")
    then_sql, then_params = then.query.sql_with_params()
    connection = connections[then.db]
    quote = connection.ops.quote_name
    inventory = quote(DatabaseInventory._meta.db_table)
    sql = (
        f"SELECT i.{quote('id')}, i.{quote('last_size_bytes')} - t.{quote('size_bytes')} AS growth"
        f" FROM {inventory} i INNER JOIN ({then_sql}) t"
        f" ON t.{quote('instance_id')} = i.{quote('instance_id')}"
        f" AND t.{quote('database_name')} = i.{quote('database_name')}"
        f" WHERE i.{quote('is_deleted')} = %s AND i.{quote('last_size_bytes')} > t.{quote('size_bytes')}"
        f" ORDER BY growth DESC, i.{quote('database_name')}, i.{quote('id')}"
        " LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*then_params, False, limit])
        return {pk: growth for pk, growth in cursor.fetchall()}


# --- latest row per database ----------------------------------------------------------------------


def latest_rows(queryset: QuerySet, inventory: QuerySet, *, hide_deleted: bool, until: date | None = None) -> QuerySet:
    """The newest row of each database among `queryset`'s rows, deleted rows included in the ranking.

    `inventory` names the databases (one row each); for each, one backward probe of the unique index
    (instance, database, collected_date) within the queryset's conditions finds its newest day. The
    answer is then `queryset` narrowed to those (instance, day, databases) keys, so it stays a
    queryset the API can count and page. A database whose newest row is deleted is dropped when
    `hide_deleted`, rather than answered with an older row from before it vanished.

    Queries: the newest collection day, the probes, the rows; plus one when some database has no row
    in the month before that day (its probe then searches the whole range), whatever the history's length.
    """
    # The newest collection on or before `until` (the range's end) bounds every database's newest day. A probe within
    # the month before it prunes all but a couple of monthly partitions (and the DEFAULT one, which
    # would otherwise keep PostgreSQL from reading the partitions in order); only a database with no
    # row in that month (one that vanished long ago) is probed over the whole range.
    # That day is read from the instance totals (written with every collection; one probe of an
    # index), not from the daily rows, whose newest row would be a probe of every partition.
    totals = InstanceSizeStat.objects.filter(instance_id__in=inventory.order_by().values("instance_id"))
    if until is not None:
        totals = totals.filter(collected_date__lte=until)
    last_day = totals.order_by("-collected_date").values_list("collected_date", flat=True).first()
    if last_day is None:
        return queryset.none()
    per_database = queryset.filter(instance_id=OuterRef("instance_id"), database_name=OuterRef("database_name"))
    recent = per_database.filter(
        collected_date__gte=last_day - timedelta(days=RECENT_DAYS), collected_date__lte=last_day
    )

    def newest_days(databases: QuerySet, rows: QuerySet) -> list[tuple[int, int, str, date | None]]:
        newest = Subquery(rows.order_by("-collected_date").values("collected_date")[:1])
        # No filter on `newest` in SQL: it would evaluate the probes a second time.
        return list(
            databases.order_by().annotate(newest=newest).values_list("pk", "instance_id", "database_name", "newest")
        )

    keys = newest_days(inventory, recent)
    # A database without a row in that month (one that vanished long ago) is probed over the whole range,
    # in a second query only then: planning a probe of every monthly partition costs more than the probes.
    missing = [pk for pk, _instance_id, _name, day in keys if day is None]
    if missing:
        older = {pk: day for pk, _i, _n, day in newest_days(inventory.filter(pk__in=missing), per_database)}
        keys = [(pk, instance_id, name, day or older.get(pk)) for pk, instance_id, name, day in keys]
    grouped: dict[tuple[date, int], list[str]] = defaultdict(list)
    named: dict[int, int] = defaultdict(int)
    for _pk, instance_id, name, day in keys:
        named[instance_id] += 1
        if day is not None:
            grouped[(day, instance_id)].append(name)
    if not grouped:
        return queryset.none()
    condition = Q()
    for (day, instance_id), names in sorted(grouped.items()):
        term = Q(collected_date=day, instance_id=instance_id)
        # When every database the inventory names for the instance is newest on that day (the usual
        # case), the instance's rows of that day are the answer: the list of names adds nothing.
        if len(names) < named[instance_id]:
            term &= Q(database_name__in=sorted(names))
        condition |= term
    queryset = queryset.filter(condition)
    return queryset.filter(is_deleted=False) if hide_deleted else queryset


# --- counts ---------------------------------------------------------------------------------------


def _planner_estimate(queryset: QuerySet) -> int | None:
    """The rows the database's planner expects the queryset to return (PostgreSQL, MySQL/MariaDB)."""
    connection = connections[queryset.db]
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            return int(plan[0]["Plan"]["Plan Rows"])
        if connection.vendor == "mysql":
            cursor.execute(f"EXPLAIN {sql}", params)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            estimates = [int(row["rows"]) for row in rows if row.get("rows") is not None]
            return max(estimates) if estimates else None
    return None


def _is_whole_table(queryset: QuerySet) -> bool:
    query = queryset.query
    return not (
        query.where or query.distinct or query.annotations or query.combinator or query.low_mark or query.high_mark
    )


def _whole_table_count_postgresql(queryset: QuerySet) -> tuple[int, int]:
    """(rows counted up to EXACT_COUNT_LIMIT + 1, the catalog's estimate of the whole table): one statement.

    The estimate is the planner's own for a whole table (each partition's, or a plain table's, rows
    per page at its last ANALYZE times its pages now), read from the catalog rather than by planning a
    scan of every partition. Only when it is far past the limit (ten times) is the capped count skipped (-1): the
    table is then large by any measure, and the count would read EXACT_COUNT_LIMIT rows for nothing.
    """
    connection = connections[queryset.db]
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    sql = (
        "SELECT CASE WHEN estimate.n > %s THEN -1"
        f" ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT %s) capped) END, estimate.n"
        " FROM (SELECT COALESCE(SUM(CASE WHEN c.relpages > 0 AND c.reltuples > 0"
        " THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int)"
        " ELSE 0 END), 0)::bigint AS n"
        # The leaves of a partitioned table; a plain table (no partition tree) is its own only leaf.
        " FROM pg_class c WHERE c.oid IN (SELECT relid FROM pg_partition_tree(%s::regclass) WHERE isleaf)"
        " OR (c.oid = %s::regclass AND c.relkind = 'r')) estimate"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [10 * EXACT_COUNT_LIMIT, EXACT_COUNT_LIMIT + 1, table, table])
        capped, estimate = cursor.fetchone()
    return int(capped), int(estimate)


def estimated_count(queryset: QuerySet) -> tuple[int, bool]:
    """(rows, exact): exact up to EXACT_COUNT_LIMIT, the planner's estimate beyond.

    The exact part reads at most EXACT_COUNT_LIMIT + 1 rows. On SQLite, which has no estimate, a
    count of the whole table is the id range (the table is append-mostly) and a filtered count is exact.
    """
    connection = connections[queryset.db]
    if connection.vendor == "postgresql" and _is_whole_table(queryset):
        capped, estimate = _whole_table_count_postgresql(queryset)
        return (capped, True) if 0 <= capped <= EXACT_COUNT_LIMIT else (max(capped, estimate), False)
    capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if capped <= EXACT_COUNT_LIMIT:
        return capped, True
    if connection.vendor == "sqlite":
        if not queryset.query.where:
            bounds = queryset.model._base_manager.using(queryset.db).aggregate(low=Min("pk"), high=Max("pk"))
            return max(capped, bounds["high"] - bounds["low"] + 1), False
        return queryset.order_by().count(), True
    estimate = _planner_estimate(queryset)
    return max(capped, estimate or 0), False


class EstimatedCountPaginator(Paginator):
    """A paginator whose count is exact for small results and the planner's estimate for large ones."""

    @cached_property
    def count(self):
        return estimated_count(self.object_list)[0]
