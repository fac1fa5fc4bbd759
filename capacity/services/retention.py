"""Retention: daily rows older than CAPACITY_RETENTION_DAYS go; the period aggregates stay.

On PostgreSQL the database and table size histories are partitioned by month: months that lie wholly before
the cut-off are dropped as whole partitions, and only the rows of the boundary month (and any in
the DEFAULT partition) are deleted one by one. Elsewhere, and for the instance totals, rows are
deleted in batches, each batch its own short transaction, so a large clean-up never holds a long
write lock (SQLite has one writer at a time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from ..models import DatabaseSizeStat, InstanceSizeStat, MaintenanceJob, TableSizeStat
from . import partitions
from .maintenance import recorded_run
from .periods import retention_cutoff

DELETE_BATCH = 5000


@dataclass
class CleanupResult:
    retention_days: int
    cutoff_date: date
    method: str  # "partitions" (PostgreSQL) or "rows"
    database_size_rows_deleted: int = 0
    instance_size_rows_deleted: int = 0
    table_size_rows_deleted: int = 0
    partitions_dropped: list[dict] = field(default_factory=list)
    partitions_created: list[str] = field(default_factory=list)
    #: The same for the table size history (capacity_tablesizestat).
    table_partitions_dropped: list[dict] = field(default_factory=list)
    table_partitions_created: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["cutoff_date"] = self.cutoff_date.isoformat()
        return data


def delete_in_batches(queryset, batch_size: int = DELETE_BATCH) -> int:
    """Delete the queryset's rows `batch_size` at a time; returns how many went."""
    model = queryset.model
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        total += model._base_manager.using(queryset.db).filter(pk__in=ids).delete()[0]


def cleanup(retention_days: int | None = None, *, using: str = DEFAULT_DB_ALIAS) -> CleanupResult:
    """Remove the daily rows dated before the retention cut-off."""
    days = settings.CAPACITY_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = retention_cutoff(days=days)
    partitioned = partitions.uses_partitions(using)
    result = CleanupResult(retention_days=days, cutoff_date=cutoff, method="partitions" if partitioned else "rows")
    if partitioned:
        result.partitions_dropped = partitions.drop_partitions_before(cutoff, using)
        result.database_size_rows_deleted = sum(p["rows"] for p in result.partitions_dropped)
    old_rows = DatabaseSizeStat.objects.using(using).filter(collected_date__lt=cutoff)
    result.database_size_rows_deleted += delete_in_batches(old_rows)
    result.instance_size_rows_deleted = delete_in_batches(
        InstanceSizeStat.objects.using(using).filter(collected_date__lt=cutoff)
    )
    if partitions.uses_partitions(using, partitions.TABLE_SIZES):
        result.table_partitions_dropped = partitions.drop_partitions_before(cutoff, using, partitions.TABLE_SIZES)
        result.table_size_rows_deleted = sum(p["rows"] for p in result.table_partitions_dropped)
    result.table_size_rows_deleted += delete_in_batches(
        TableSizeStat.objects.using(using).filter(collected_date__lt=cutoff)
    )
    return result


def run_retention() -> CleanupResult:
    """The daily job (and the clean-up endpoint): partitions ahead, then clean-up, recorded."""
    with recorded_run(MaintenanceJob.RETENTION) as log:
        created = partitions.ensure_future_partitions()
        table_created = partitions.ensure_future_partitions(table=partitions.TABLE_SIZES)
        result = cleanup()
        result.partitions_created = created
        result.table_partitions_created = table_created
        log.summary = result.as_dict()
    return result
