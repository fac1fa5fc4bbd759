"""Querysets the API shares: an instance's latest collected total, read with subqueries."""

from django.db.models import OuterRef, QuerySet, Subquery

from capacity.models import InstanceSizeStat


def with_latest_size(queryset: QuerySet) -> QuerySet:
    """Annotate `latest_total_size_bytes`, `latest_database_count`, `latest_collected_date`.

    Subqueries keep a list at one query whatever its length (no query per instance).
    """
    latest = InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False).order_by("-collected_date")
    return queryset.annotate(
        latest_total_size_bytes=Subquery(latest.values("total_size_bytes")[:1]),
        latest_database_count=Subquery(latest.values("database_count")[:1]),
        latest_collected_date=Subquery(latest.values("collected_date")[:1]),
    )
