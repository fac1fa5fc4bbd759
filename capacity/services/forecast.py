"""Growth trends and forecasts: a least-squares line through the daily sizes of a window.

The window is the `days` days ending on the instance's latest collection. The slope of the line is the
growth per day; forecasts start from the latest size and add that growth, so "in 30 days" always
begins at what the instance measures now. The arithmetic is exact (integer sums, fractions), so a
database that grows exactly 1 MiB a day reports exactly 1048576 bytes a day.

Days until full: when the instance has a disk limit (capacity_limit_bytes) and its latest collection
tells the on-disk size of some databases (allocated_size_bytes), the room left is measured from the
footprint: each live database's allocated bytes where known, its logical size elsewhere. The growth
per day is still the slope of the logical total (allocation grows in steps, the data steadily). Without
any allocated figure the latest logical total is used, as before.

Two queries whatever the database count: the instance's daily totals, then every database row of the
window, folded into running sums as it is read (past a quarter's window it streams, so memory grows
with the databases, not the rows).
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from instances.models import Instance

from ..models import DatabaseSizeStat, InstanceSizeStat
from .readmodels import on_days

DEFAULT_DAYS = 30
MIN_DAYS = 7
MAX_DAYS = 730
MIN_SAMPLES = 2
HORIZONS = (30, 90)
# Windows longer than this stream their daily rows (see forecast_instance).
STREAM_AFTER_DAYS = 92


class LineFit:
    """Running sums of (x, y) for an exact least-squares line; x is the day relative to the window's end."""

    __slots__ = ("n", "sx", "sy", "sxx", "sxy", "first", "last", "current")

    def __init__(self):
        self.n = self.sx = self.sy = self.sxx = self.sxy = 0
        self.first: date | None = None
        self.last: date | None = None
        self.current: int | None = None

    def add(self, day: date, size: int, anchor: date) -> None:
        x = (day - anchor).days
        self.n += 1
        self.sx += x
        self.sy += size
        self.sxx += x * x
        self.sxy += x * size
        self.first = day if self.first is None or day < self.first else self.first
        self.last = day if self.last is None or day > self.last else self.last
        if x == 0:
            self.current = size

    def slope(self) -> Fraction | None:
        """Bytes per day, or None with fewer than MIN_SAMPLES days."""
        if self.n < MIN_SAMPLES:
            return None
        denominator = self.n * self.sxx - self.sx * self.sx
        if denominator == 0:  # one distinct day, however many rows
            return None
        return Fraction(self.n * self.sxy - self.sx * self.sy, denominator)


@dataclass(frozen=True)
class Trend:
    """What one series (a database, or the instance total) says about growth over the window."""

    current_size_bytes: int | None
    growth_bytes_per_day: float | None
    predicted_size_bytes_30d: int | None
    predicted_size_bytes_90d: int | None
    sample_count: int
    window_start: date | None  # first sample used
    window_end: date | None  # last sample used

    @classmethod
    def from_fit(cls, fit: LineFit, slope: Fraction | None = None, **extra) -> "Trend":
        """The trend of `fit` (its slope, when already worked out); `extra`: the subclass's own fields."""
        slope = fit.slope() if slope is None else slope
        predicted = {horizon: _predict(fit.current, slope, horizon) for horizon in HORIZONS}
        return cls(
            current_size_bytes=fit.current,
            growth_bytes_per_day=None if slope is None else round(float(slope), 2),
            predicted_size_bytes_30d=predicted[30],
            predicted_size_bytes_90d=predicted[90],
            sample_count=fit.n,
            window_start=fit.first,
            window_end=fit.last,
            **extra,
        )


@dataclass(frozen=True)
class DatabaseForecast(Trend):
    database_name: str = ""


@dataclass(frozen=True)
class InstanceTrend(Trend):
    capacity_limit_bytes: int | None = None
    days_until_full: int | None = None
    #: The footprint days_until_full started from: allocated bytes where known, the size elsewhere
    #: (None when no database of the latest collection has an allocated figure).
    footprint_bytes: int | None = None


@dataclass(frozen=True)
class InstanceForecast:
    instance_id: int
    instance_name: str
    days: int
    window_start: date | None  # the window asked for, ending on the latest collection
    window_end: date | None
    instance: InstanceTrend
    databases: list[DatabaseForecast] = field(default_factory=list)


def _predict(current: int | None, slope: Fraction | None, horizon: int) -> int | None:
    if current is None or slope is None:
        return None
    return max(0, round(current + slope * horizon))


def days_until_full(current: int | None, slope: Fraction | None, limit: int | None) -> int | None:
    """Whole days from the latest collection until the trend reaches `limit`.

    0 when the latest size is already at or over it; None without a limit, a latest size, or growth.
    """
    if limit is None or current is None:
        return None
    if current >= limit:
        return 0
    if slope is None or slope <= 0:
        return None
    return math.ceil((limit - current) / slope)


def footprints(days: dict[int, date]) -> dict[int, int]:
    """{instance id: on-disk footprint} of each instance's collection on the given day, as
    forecast_instance measures it (allocated bytes where known, the size elsewhere), for the instances
    whose collection that day has at least one allocated figure. One query."""
    condition = on_days(days)
    if condition is None:
        return {}
    rows = (
        DatabaseSizeStat.objects.filter(condition, is_deleted=False)
        .order_by()
        .values("instance_id")
        .annotate(footprint=Sum(Coalesce("allocated_size_bytes", "size_bytes")), known=Count("allocated_size_bytes"))
        .values_list("instance_id", "footprint", "known")
    )
    return {instance_id: int(footprint) for instance_id, footprint, known in rows if known}


def forecast_instance(instance: Instance, days: int = DEFAULT_DAYS) -> InstanceForecast:
    """The instance's and each live database's trend over the `days` days up to its latest collection."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"days must be between {MIN_DAYS} and {MAX_DAYS}, got {days}")
    # One row a day at most (unique per instance and day), so the newest `days` rows cover the window.
    totals = list(
        InstanceSizeStat.objects.filter(instance=instance, is_deleted=False)
        .order_by("-collected_date")
        .values_list("collected_date", "total_size_bytes")[:days]
    )
    limit = instance.capacity_limit_bytes
    if not totals:
        empty = InstanceTrend(None, None, None, None, 0, None, None, capacity_limit_bytes=limit)
        return InstanceForecast(instance.pk, instance.name, days, None, None, empty)

    window_end = totals[0][0]
    window_start = window_end - timedelta(days=days - 1)
    total_fit = LineFit()
    for day, size in totals:
        if day >= window_start:
            total_fit.add(day, size, window_end)

    fits: dict[str, LineFit] = {}
    footprint = 0
    allocated_known = False
    rows = DatabaseSizeStat.objects.filter(
        instance=instance, is_deleted=False, collected_date__gte=window_start, collected_date__lte=window_end
    ).values_list("database_name", "collected_date", "size_bytes", "allocated_size_bytes")
    # A short window (the default month) is read in one round trip; a long one streams through a
    # server-side cursor, so its rows are never all held at once.
    for name, day, size, allocated in rows if days <= STREAM_AFTER_DAYS else rows.iterator(chunk_size=5000):
        fit = fits.get(name)
        if fit is None:
            fit = fits[name] = LineFit()
        fit.add(day, size, window_end)
        if day == window_end:
            footprint += size if allocated is None else allocated
            allocated_known = allocated_known or allocated is not None
    start = footprint if allocated_known else total_fit.current
    slope = total_fit.slope()
    instance_trend = InstanceTrend.from_fit(
        total_fit,
        slope,
        capacity_limit_bytes=limit,
        days_until_full=days_until_full(start, slope, limit),
        footprint_bytes=footprint if allocated_known else None,
    )
    # Live databases are those of the latest collection that are not marked deleted there.
    databases = [
        DatabaseForecast.from_fit(fit, database_name=name)
        for name, fit in sorted(fits.items())
        if fit.current is not None
    ]
    return InstanceForecast(instance.pk, instance.name, days, window_start, window_end, instance_trend, databases)
