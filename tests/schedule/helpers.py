"""Generated daily collections and the figures a period should have, computed the slow obvious way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from capacity.models import DatabaseSizeStat, InstanceSizeStat
from capacity.services.periods import period_bounds
from instances.engines import DatabaseSize
from tests.factories import record_collection


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def stamp(day: date, hour: int = 3) -> datetime:
    """A collected_at on `day` (in TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


def size_of(name: str, day: date) -> int:
    """A size that changes every day, grows over time and differs per database (never zero)."""
    base = {"orders": 50_000_000, "billing": 7_000_000, "audit": 1_234_567}.get(name, 3_000_000)
    ordinal = day.toordinal()
    return base + (ordinal % 1000) * 4096 + (ordinal * 7919 % 97) * 1000


def make_rows(instance, names, first: date, last: date, collected_at=None, size=size_of):
    """One collection a day of each name, from `first` to `last`, through the collection service
    (tests/factories.py: daily rows, totals and inventory as production writes them); returns the
    DatabaseSizeStat and InstanceSizeStat rows written, oldest first.

    `collected_at` moves the rows' arrival time away from their day afterwards, on purpose: the
    aggregation's watermark follows `collected_at`, and a test of it needs rows of an old day that
    arrived late (or early), which no real collection writes.
    """
    for day in days(first, last):
        sizes = {
            name: DatabaseSize(name=name, size_bytes=size(name, day), data_size_bytes=size(name, day)) for name in names
        }
        record_collection(instance, stamp(day), sizes)
    in_span = {"instance": instance, "collected_date__range": (first, last)}
    if collected_at is not None:
        DatabaseSizeStat.objects.filter(**in_span).update(collected_at=collected_at)
        InstanceSizeStat.objects.filter(**in_span).update(collected_at=collected_at)
    stats = list(DatabaseSizeStat.objects.filter(**in_span).order_by("collected_date", "database_name"))
    totals = list(InstanceSizeStat.objects.filter(**in_span).order_by("collected_date"))
    return stats, totals


def expected_periods(samples: dict[date, int], period_type: str) -> dict[date, dict]:
    """{period_start: figures} from {day: size}, by plain Python."""
    grouped: dict[date, list[tuple[date, int]]] = {}
    for day, value in sorted(samples.items()):
        grouped.setdefault(period_bounds(period_type, day)[0], []).append((day, value))
    result = {}
    for start, rows in grouped.items():
        values = [v for _d, v in rows]
        first, last = values[0], values[-1]
        result[start] = {
            "period_end": period_bounds(period_type, start)[1],
            "avg_size_bytes": round(sum(values) / len(values)),
            "max_size_bytes": max(values),
            "min_size_bytes": min(values),
            "first_size_bytes": first,
            "last_size_bytes": last,
            "growth_bytes": last - first,
            "growth_rate": round((last - first) * 100 / first, 4),
            "sample_count": len(values),
            "first_date": rows[0][0],
            "last_date": rows[-1][0],
        }
    return result
