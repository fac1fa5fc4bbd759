"""Calendar arithmetic shared by aggregation, retention and partitions."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import PeriodType


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_bounds(period_type: str, day: date) -> tuple[date, date]:
    """First and last day of the ISO week (Monday to Sunday), month or quarter containing `day`."""
    if period_type == PeriodType.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period_type == PeriodType.MONTH:
        start = day.replace(day=1)
        return start, add_months(start, 1) - timedelta(days=1)
    if period_type == PeriodType.QUARTER:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return start, add_months(start, 3) - timedelta(days=1)
    raise ValueError(f"unknown period type {period_type!r}")


def retention_cutoff(today: date | None = None, days: int | None = None) -> date:
    """The oldest collected_date that retention keeps: rows dated before it are past retention."""
    days = settings.CAPACITY_RETENTION_DAYS if days is None else days
    return (today or timezone.localdate()) - timedelta(days=days)
