"""Read-only queries of the admin pages and the API: series, latest sizes, growth, fleet summary.

Nothing here writes: weekly and monthly series read the aggregates and add the days since the last
aggregation from the daily rows."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from common.badges import status_badge
from common.formatting import growth_percent
from instances.models import Instance
from sync_sessions.choices import RecordStatus
from sync_sessions.models import SyncSession

from .models import (
    DatabaseInventory,
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    InstanceSizeStat,
    TableSizeStat,
)

# A missed night or two must not dip the fleet curve; an instance silent for longer drops out of it.
FLEET_CARRY_DAYS = 7
GROWTH_WINDOWS = (7, 30)
RANGE_DAYS = {"30d": 30, "90d": 90, "1y": 365, "all": None}


# --- history series ----------------------------------------------------------------------------


def range_start(range_key: str, today: date | None = None) -> date | None:
    days = RANGE_DAYS[range_key]
    if days is None:
        return None
    return (today or timezone.localdate()) - timedelta(days=days)


def period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def average_by_period(points, period: str) -> list[tuple[date, int]]:
    """Daily (date, bytes) points averaged into weeks (from Monday) or calendar months."""
    if period == "day":
        return list(points)
    out = []
    for start, group in groupby(points, key=lambda p: period_start(p[0], period)):
        values = [v for _d, v in group]
        out.append((start, round(sum(values) / len(values))))
    return out


def instance_series(instance: Instance, range_key: str, period: str, database: str | None = None):
    """An instance's total (or one of its databases') over the range: daily rows, or the weekly and
    monthly aggregates (average size per ISO week or calendar month) kept by capacity.services.aggregate.
    """
    start = range_start(range_key)
    if period == "day":
        if database:
            queryset = DatabaseSizeStat.objects.filter(instance=instance, database_name=database)
            field = "size_bytes"
        else:
            queryset = InstanceSizeStat.objects.filter(instance=instance, is_deleted=False)
            field = "total_size_bytes"
        if start:
            queryset = queryset.filter(collected_date__gte=start)
        return list(queryset.order_by("collected_date").values_list("collected_date", field))

    # Read only: collections bring the aggregates up to date (capacity.receivers), never a page view.
    if database:
        queryset = DatabaseSizeAggregate.objects.filter(instance=instance, database_name=database)
    else:
        queryset = InstanceSizeAggregate.objects.filter(instance=instance)
    queryset = queryset.filter(period_type=period)
    if start:
        queryset = queryset.filter(period_end__gte=start)
    return list(queryset.order_by("period_start").values_list("period_start", "avg_size_bytes"))


def fleet_series(range_key: str, period: str) -> list[tuple[date, int]]:
    """The fleet's total per collection day: each instance's latest total of the last few days, summed."""
    start = range_start(range_key)
    queryset = InstanceSizeStat.objects.filter(is_deleted=False)
    if start:
        queryset = queryset.filter(collected_date__gte=start - timedelta(days=FLEET_CARRY_DAYS))
    rows = queryset.order_by("collected_date").values_list("collected_date", "instance_id", "total_size_bytes")
    # A bounded range is a few thousand rows: one fetch. The whole history streams.
    rows = rows.iterator() if start is None else list(rows)
    latest: dict[int, tuple[date, int]] = {}
    points = []
    for day, group in groupby(rows, key=itemgetter(0)):
        for _day, instance_id, size in group:
            latest[instance_id] = (day, size)
        if start and day < start:
            continue
        oldest = day - timedelta(days=FLEET_CARRY_DAYS)
        points.append((day, sum(size for seen, size in latest.values() if seen >= oldest)))
    return average_by_period(points, period)


# --- instance capacity annotations -------------------------------------------------------------


def _latest_instance_stat(field: str):
    return Subquery(
        InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False)
        .order_by("-collected_date")
        .values(field)[:1]
    )


def _instance_total_on(day: date):
    return Subquery(
        InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False, collected_date__lte=day)
        .order_by("-collected_date")
        .values("total_size_bytes")[:1]
    )


def _capacity_annotations(today: date, windows) -> dict:
    annotations = {
        "latest_total_bytes": _latest_instance_stat("total_size_bytes"),
        "latest_db_count": _latest_instance_stat("database_count"),
        "latest_user_total_bytes": _latest_instance_stat("user_total_size_bytes"),
    }
    for days in windows:
        annotations[f"total_{days}d_ago"] = _instance_total_on(today - timedelta(days=days))
    return annotations


def annotate_instance_capacity(queryset, today: date | None = None):
    """Latest total, database count and 7/30-day growth per instance, in the same single query."""
    today = today or timezone.localdate()
    annotations = _capacity_annotations(today, GROWTH_WINDOWS)
    annotations["latest_collected_date"] = _latest_instance_stat("collected_date")
    queryset = queryset.annotate(**annotations)
    return queryset.annotate(
        **{
            f"growth_{days}d_bytes": ExpressionWrapper(
                F("latest_total_bytes") - F(f"total_{days}d_ago"), output_field=BigIntegerField()
            )
            for days in GROWTH_WINDOWS
        }
    )


def instances_with_capacity(queryset, today: date | None = None, windows=(30,)) -> list[Instance]:
    """The instances with annotate_instance_capacity's latest figures and the growth over `windows`, as a list.

    For pages that rank and sum in Python: the growth is subtracted here, so each subquery runs once per
    instance (in SQL the growth columns repeat the subqueries they subtract). No latest_collected_date.
    """
    today = today or timezone.localdate()
    instances = list(queryset.annotate(**_capacity_annotations(today, windows)))
    for instance in instances:
        for days in windows:
            before = getattr(instance, f"total_{days}d_ago")
            latest = instance.latest_total_bytes
            setattr(instance, f"growth_{days}d_bytes", None if latest is None or before is None else latest - before)
    return instances


# --- summaries ---------------------------------------------------------------------------------


def last_session():
    return SyncSession.objects.select_related("created_by").order_by("-started_at", "-id").first()


def fleet_summary(instances: list[Instance] | None = None) -> dict:
    """The numbers on top of the admin index and the dashboard.

    `instances`: every instance already read with instances_with_capacity (the dashboard shares one read).
    """
    if instances is None:
        instances = instances_with_capacity(Instance.objects.order_by())
    session = last_session()
    failures = []
    if session is not None:
        failures = list(
            session.records.filter(status=RecordStatus.FAILED).select_related("instance").order_by("instance_name")
        )
    with_history = [i for i in instances if i.growth_30d_bytes is not None]
    growth_30d = sum(i.growth_30d_bytes for i in with_history) if with_history else None
    total = sum(i.latest_total_bytes or 0 for i in instances)
    databases = DatabaseInventory.objects.filter(is_deleted=False).aggregate(
        all=Count("id"), user=Count("id", filter=Q(is_system=False))
    )
    # Without the engines' own databases (README "System databases"); an unknown figure counts whole.
    user_total = sum(
        i.latest_user_total_bytes if i.latest_user_total_bytes is not None else i.latest_total_bytes or 0
        for i in instances
    )
    return {
        "instances_total": len(instances),
        "instances_active": sum(1 for i in instances if i.is_active),
        "instances_failing": sum(1 for i in instances if i.last_sync_status == RecordStatus.FAILED),
        "databases": databases["all"],
        "user_databases": databases["user"],
        "total_bytes": total,
        "user_total_bytes": user_total,
        "growth_30d_bytes": growth_30d,
        # relative to the instances that have 30 days of history, the only ones whose growth is known
        "growth_30d_percent": growth_percent(growth_30d, sum(i.latest_total_bytes for i in with_history)),
        "last_session": session,
        "last_session_badge": status_badge(session.status) if session else None,
        "failures": failures,
    }


def with_latest_size(queryset: QuerySet) -> QuerySet:
    """Annotate `latest_total_size_bytes`, `latest_database_count`, their user-database twins
    (`latest_user_total_size_bytes`, `latest_user_database_count`) and `latest_collected_date`.

    Subqueries keep a list at one query whatever its length (no query per instance).
    """
    latest = InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False).order_by("-collected_date")
    return queryset.annotate(
        latest_total_size_bytes=Subquery(latest.values("total_size_bytes")[:1]),
        latest_database_count=Subquery(latest.values("database_count")[:1]),
        latest_user_total_size_bytes=Subquery(latest.values("user_total_size_bytes")[:1]),
        latest_user_database_count=Subquery(latest.values("user_database_count")[:1]),
        latest_collected_date=Subquery(latest.values("collected_date")[:1]),
    )


# --- table sizes -------------------------------------------------------------------------------


def _table_size_on(day: date):
    """The same table's total at its latest stored collection on or before `day` (None: not kept then)."""
    return Subquery(
        TableSizeStat.objects.filter(
            instance=OuterRef("instance"),
            database_name=OuterRef("database_name"),
            schema_name=OuterRef("schema_name"),
            table_name=OuterRef("table_name"),
            is_other=False,
            collected_date__lte=day,
        )
        .order_by("-collected_date")
        .values("total_size_bytes")[:1],
        output_field=BigIntegerField(),
    )


def database_tables(instance: Instance, database: str) -> tuple[date | None, list[TableSizeStat]]:
    """One database's tables kept on its latest collection, largest first and the "other" row last,
    each with `growth_7d_bytes` and `growth_30d_bytes` (None where the table was not kept back then)."""
    rows = TableSizeStat.objects.filter(instance=instance, database_name=database)
    latest = rows.order_by("-collected_date").values_list("collected_date", flat=True).first()
    if latest is None:
        return None, []
    growth = {}
    for days in GROWTH_WINDOWS:
        growth[f"before_{days}d"] = _table_size_on(latest - timedelta(days=days))
    tables = list(
        rows.filter(collected_date=latest)
        .annotate(**growth)
        .order_by("is_other", "-total_size_bytes", "schema_name", "table_name")
    )
    for table in tables:
        for days in GROWTH_WINDOWS:
            before = getattr(table, f"before_{days}d")
            value = None if table.is_other or before is None else table.total_size_bytes - before
            setattr(table, f"growth_{days}d_bytes", value)
    return latest, tables


def fastest_growing_tables(today: date | None = None, days: int = 7, limit: int = 10) -> list[TableSizeStat]:
    """The tables that grew most over `days` days across the fleet, from each database's latest
    collection of the last few days; tables not kept `days` days ago are left out (no basis)."""
    today = today or timezone.localdate()
    latest_of_database = (
        TableSizeStat.objects.filter(instance=OuterRef("instance"), database_name=OuterRef("database_name"))
        .order_by("-collected_date")
        .values("collected_date")[:1]
    )
    return list(
        TableSizeStat.objects.filter(
            is_other=False,
            collected_date__gte=today - timedelta(days=FLEET_CARRY_DAYS),
            collected_date=Subquery(latest_of_database),
        )
        .annotate(before=_table_size_on(today - timedelta(days=days)))
        .filter(before__isnull=False)
        .annotate(growth_bytes=ExpressionWrapper(F("total_size_bytes") - F("before"), output_field=BigIntegerField()))
        .filter(growth_bytes__gt=0)
        .select_related("instance")
        .order_by("-growth_bytes", "database_name", "schema_name", "table_name")[:limit]
    )
