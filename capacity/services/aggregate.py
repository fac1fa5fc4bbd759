"""Weekly (ISO), monthly and quarterly aggregates of the daily sizes.

Each aggregate says what the daily rows of one period hold: average, largest, smallest, first
and last size, growth over the period and the number of samples. A run recomputes only the
periods that received rows since the previous run (rows are found by `collected_at`), with a
handful of set-based queries per batch of instances: one window query per period type reads
every figure at once, one upsert writes them, one delete removes aggregates whose rows are gone.
A full run on PostgreSQL (every period of the whole history) is done by the database itself, a
quarter of history per statement (`capacity.services.aggregate_sql`).

Rows marked deleted (a database that vanished keeps its last size on the day it went) are not
samples. An aggregate of a period that began before the retention cut-off is kept as it is: its
daily rows may already be partly cleaned up, and the aggregate is what remains of them (a database
of such a period without one gets one from the rows that remain).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_

from django.db import connections, router, transaction
from django.db.models import Avg, Count, F, Max, Min, Q
from django.db.models.expressions import Window
from django.db.models.functions import FirstValue, TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone

from common.db import upsert

from ..models import (
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    InstanceSizeStat,
    MaintenanceJob,
    PeriodType,
)
from .aggregate_sql import recompute_all
from .maintenance import recorded_run
from .periods import period_bounds, retention_cutoff

# Rows are stamped with `collected_at` before their transaction commits; looking back a little
# further than the previous run's start catches a row that committed just after that run read.
OVERLAP = timedelta(minutes=15)
INSTANCES_PER_BATCH = 50
WRITE_BATCH = 1000

_TRUNC = {PeriodType.WEEK: TruncWeek, PeriodType.MONTH: TruncMonth, PeriodType.QUARTER: TruncQuarter}


def growth_rate(first: int, last: int) -> float | None:
    """Growth in percent of the first size; None when the period started at zero."""
    if not first:
        return None
    return round((last - first) * 100.0 / first, 4)


@dataclass(frozen=True)
class _Source:
    """A daily table and the aggregate table built from it."""

    stat: type
    aggregate: type
    size_field: str
    keys: tuple[str, ...]  # what one aggregate row is about, besides its period
    extra_last: dict[str, str] = field(default_factory=dict)  # aggregate field <- last value of a stat field

    def upsert_unique_fields(self) -> list[str]:
        return [*self.keys, "period_type", "period_start"]


DATABASES = _Source(DatabaseSizeStat, DatabaseSizeAggregate, "size_bytes", ("instance_id", "database_name"))
INSTANCES = _Source(
    InstanceSizeStat,
    InstanceSizeAggregate,
    "total_size_bytes",
    ("instance_id",),
    {"last_database_count": "database_count"},
)


@dataclass
class AggregationResult:
    mode: str  # "full" or "incremental"
    since: datetime | None
    database_periods: int = 0
    instance_periods: int = 0
    removed: int = 0
    closed: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        return data


def _window_rows(source: _Source, period_type: str, condition: Q):
    """One row per (keys, period) with every figure, read by one windowed query."""
    size = source.size_field
    partition = [F(k) for k in source.keys] + [F("period_start")]

    def over(expression, order=None):
        return Window(expression, partition_by=partition, order_by=order)

    extra = {name: over(FirstValue(column), F("collected_date").desc()) for name, column in source.extra_last.items()}
    return (
        source.stat.objects.filter(condition, is_deleted=False)
        .order_by()
        .annotate(period_start=_TRUNC[period_type]("collected_date"))
        .annotate(
            avg_size=over(Avg(size)),
            max_size=over(Max(size)),
            min_size=over(Min(size)),
            samples=over(Count("id")),
            first_day=over(Min("collected_date")),
            last_day=over(Max("collected_date")),
            first_size=over(FirstValue(size), F("collected_date").asc()),
            last_size=over(FirstValue(size), F("collected_date").desc()),
            **extra,
        )
        .values(
            *source.keys,
            "period_start",
            "avg_size",
            "max_size",
            "min_size",
            "samples",
            "first_day",
            "last_day",
            "first_size",
            "last_size",
            *extra,
        )
        .distinct()
    )


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _upsert(source: _Source, objects: list) -> None:
    model = source.aggregate
    unique = source.upsert_unique_fields()
    update = [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in unique and f.name not in unique
    ]
    upsert(model, objects, unique, update, batch_size=WRITE_BATCH)


def _affected(source: _Source, period_type: str, changed) -> dict[int, set[date]]:
    """Periods (per instance) that hold at least one changed row."""
    pairs = (
        changed.order_by()
        .annotate(period=_TRUNC[period_type]("collected_date"))
        .values_list("instance_id", "period")
        .distinct()
    )
    affected: dict[int, set[date]] = defaultdict(set)
    for instance_id, period in pairs:
        affected[instance_id].add(_as_date(period))
    return affected


def _recompute(
    source: _Source, period_type: str, affected: dict[int, set[date]], now, today, cutoff
) -> tuple[int, int]:
    """Recompute the given periods; returns (aggregates written, aggregates removed)."""
    written = removed = 0
    instance_ids = sorted(affected)
    for offset in range(0, len(instance_ids), INSTANCES_PER_BATCH):
        batch = {i: set(affected[i]) for i in instance_ids[offset : offset + INSTANCES_PER_BATCH]}
        # An aggregate of a period that began before the cut-off stays as it is (see module doc).
        protected = set(
            source.aggregate.objects.filter(
                instance_id__in=list(batch), period_type=period_type, period_start__lt=cutoff
            )
            .order_by()
            .values_list(*source.keys, "period_start")
        )

        ranges = Q()
        for instance_id, periods in batch.items():
            first = min(periods)
            last = period_bounds(period_type, max(periods))[1]
            ranges |= Q(instance_id=instance_id, collected_date__gte=first, collected_date__lte=last)

        objects = []
        for row in _window_rows(source, period_type, ranges).iterator(chunk_size=2000):
            start = _as_date(row["period_start"])
            if start not in batch.get(row["instance_id"], ()):
                continue  # a period inside the range that had no new rows: leave it alone
            if (*(row[key] for key in source.keys), start) in protected:
                continue
            end = period_bounds(period_type, start)[1]
            first_size, last_size = int(row["first_size"]), int(row["last_size"])
            fields = {key: row[key] for key in source.keys}
            fields.update({name: row[name] for name in source.extra_last})
            objects.append(
                source.aggregate(
                    **fields,
                    period_type=period_type,
                    period_start=start,
                    period_end=end,
                    avg_size_bytes=round(float(row["avg_size"])),
                    max_size_bytes=int(row["max_size"]),
                    min_size_bytes=int(row["min_size"]),
                    first_size_bytes=first_size,
                    last_size_bytes=last_size,
                    first_date=_as_date(row["first_day"]),
                    last_date=_as_date(row["last_day"]),
                    growth_bytes=last_size - first_size,
                    growth_rate=growth_rate(first_size, last_size),
                    sample_count=int(row["samples"]),
                    is_complete=end < today,
                    computed_at=now,
                )
            )
        stale = reduce(
            or_,
            (
                Q(instance_id=instance_id, period_type=period_type, period_start__in=sorted(periods))
                for instance_id, periods in batch.items()
            ),
        )
        with transaction.atomic(using=router.db_for_write(source.aggregate)):
            _upsert(source, objects)
            # What was not rewritten just now has no samples left in its period (older ones are kept).
            removed += (
                source.aggregate.objects.filter(stale, period_start__gte=cutoff).exclude(computed_at=now).delete()[0]
            )
        written += len(objects)
    return written, removed


def close_finished_periods(today: date | None = None) -> int:
    """Mark aggregates of periods that have ended as complete."""
    today = today or timezone.localdate()
    closed = 0
    for model in (DatabaseSizeAggregate, InstanceSizeAggregate):
        closed += model.objects.filter(is_complete=False, period_end__lt=today).update(is_complete=True)
    return closed


def aggregate(
    since: datetime | None = None,
    *,
    instance_ids: Iterable[int] | None = None,
    period_types: Iterable[str] | None = None,
    now: datetime | None = None,
) -> AggregationResult:
    """Recompute the aggregates of every period with a row collected after `since` (all when None)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = retention_cutoff(today)
    result = AggregationResult(mode="incremental" if since else "full", since=since)
    in_sql = since is None and connections[router.db_for_write(DatabaseSizeAggregate)].vendor == "postgresql"
    for source in (DATABASES, INSTANCES):
        if in_sql:
            kinds = list(period_types or PeriodType.values)
            written, removed = recompute_all(source, kinds, instance_ids, now, today, cutoff)
            if source is DATABASES:
                result.database_periods += written
            else:
                result.instance_periods += written
            result.removed += removed
            continue
        changed = source.stat.objects.all()
        if since is not None:
            changed = changed.filter(collected_at__gt=since)
        if instance_ids is not None:
            changed = changed.filter(instance_id__in=list(instance_ids))
        for period_type in period_types or PeriodType.values:
            affected = _affected(source, period_type, changed)
            written, removed = _recompute(source, period_type, affected, now, today, cutoff)
            if source is DATABASES:
                result.database_periods += written
            else:
                result.instance_periods += written
            result.removed += removed
    result.closed = close_finished_periods(today)
    return result


def run_aggregation(*, full: bool = False) -> AggregationResult:
    """The daily job: aggregate what arrived since the previous run, and remember how far it got."""
    with recorded_run(MaintenanceJob.AGGREGATION) as log:
        started = log.run.started_at
        since = None if full or log.previous_watermark is None else log.previous_watermark - OVERLAP
        result = aggregate(since, now=started)
        log.summary = result.as_dict()
        log.watermark = started
    return result


def refresh_instance(instance) -> AggregationResult | None:
    """Bring one instance's aggregates up to date with its latest collection, if they lag behind.

    Keeps the aggregation endpoint current between two nightly runs at the cost of one query
    (the instance aggregates' freshness) when nothing changed.
    """
    # Both aggregate tables are rewritten together, and every collection writes an instance total
    # (also one that found no databases): the instance aggregates say how fresh both are.
    freshest = InstanceSizeAggregate.objects.filter(instance=instance).aggregate(at=Max("computed_at"))["at"]
    if freshest is None:
        if not (
            DatabaseSizeStat.objects.filter(instance=instance).exists()
            or InstanceSizeStat.objects.filter(instance=instance).exists()
        ):
            return None
        return aggregate(None, instance_ids=[instance.pk])
    latest = max(filter(None, [instance.last_connected, instance.last_sync_at]), default=None)
    if latest is None or latest <= freshest:
        return None
    return aggregate(freshest - OVERLAP, instance_ids=[instance.pk])
