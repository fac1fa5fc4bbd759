"""Generated daily rows and the figures a period should have, computed the slow obvious way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from capacity.models import DatabaseSizeStat, InstanceSizeStat
from capacity.services.periods import period_bounds


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
    """Daily DatabaseSizeStat rows for each name and the matching InstanceSizeStat totals."""
    stats, totals = [], []
    for day in days(first, last):
        at = collected_at or stamp(day)
        row_sizes = {name: size(name, day) for name in names}
        stats += [
            DatabaseSizeStat(
                instance=instance,
                database_name=name,
                size_bytes=value,
                data_size_bytes=value,
                collected_date=day,
                collected_at=at,
            )
            for name, value in row_sizes.items()
        ]
        totals.append(
            InstanceSizeStat(
                instance=instance,
                total_size_bytes=sum(row_sizes.values()),
                database_count=len(names),
                collected_date=day,
                collected_at=at,
            )
        )
    DatabaseSizeStat.objects.bulk_create(stats)
    InstanceSizeStat.objects.bulk_create(totals)
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
