"""The API tests' users, clients and instances, plus generated daily history for trends."""

from datetime import date, timedelta

from django.utils import timezone

from capacity.models import DatabaseSizeStat, InstanceSizeStat
from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    admin,
    client_for,
    credential,
    make_target,
    operator,
    users,
    viewer,
)

MiB = 1024 * 1024


def add_history(instance, end: date, days: int, databases: dict, *, skip=()):
    """`days` daily collections ending on `end`; `databases` maps a name to size(day_index) (None: absent).

    Day index 0 is the first day. The instance total of a day is the sum of its databases, as the
    collection service writes it. Days in `skip` have no collection at all.
    """
    db_rows, totals = [], []
    for index in range(days):
        if index in skip:
            continue
        day = end - timedelta(days=days - 1 - index)
        collected_at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
        sizes = {name: size_of(index) for name, size_of in databases.items()}
        sizes = {name: size for name, size in sizes.items() if size is not None}
        db_rows += [
            DatabaseSizeStat(
                instance=instance,
                database_name=name,
                size_bytes=size,
                data_size_bytes=size,
                collected_date=day,
                collected_at=collected_at,
            )
            for name, size in sizes.items()
        ]
        totals.append(
            InstanceSizeStat(
                instance=instance,
                total_size_bytes=sum(sizes.values()),
                database_count=len(sizes),
                collected_date=day,
                collected_at=collected_at,
            )
        )
    DatabaseSizeStat.objects.bulk_create(db_rows)
    InstanceSizeStat.objects.bulk_create(totals)
