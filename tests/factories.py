"""The one way tests write size history: through the collection service, as a collection run would.

`record_history` saves each collection with `capacity.services.collect.save_sizes` (daily rows, the
instance total and the inventory, exactly as production writes them) and then brings the aggregates up
to date the way a finished run does (capacity.receivers). Nothing here writes a history table itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from capacity.services.aggregate import refresh_instance
from capacity.services.collect import save_sizes
from instances.engines import CollectResult, DatabaseSize


def at(day: date, hour: int = 3) -> datetime:
    """A collected_at on `day` (in TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


def database(name: str, size: int | DatabaseSize) -> DatabaseSize:
    """A measured database; a bare size is split 3/4 data, 1/4 index."""
    if isinstance(size, DatabaseSize):
        return size
    return DatabaseSize(name=name, size_bytes=size, data_size_bytes=size - size // 4, index_size_bytes=size // 4)


def record_collection(
    instance, collected_at: datetime, sizes: Mapping[str, int | DatabaseSize], *, vanished: Mapping[str, int] = ()
):
    """One collection of `instance` at `collected_at`. `vanished` names databases that existed (with
    that last size) and are gone now: they are seen once just before, then missed, as in production."""
    if vanished:
        seen = {**{n: database(n, s) for n, s in vanished.items()}, **{n: database(n, s) for n, s in sizes.items()}}
        save_sizes(
            instance, CollectResult(databases=list(seen.values())), collected_at=collected_at - timedelta(minutes=1)
        )
    return save_sizes(
        instance, CollectResult(databases=[database(n, s) for n, s in sizes.items()]), collected_at=collected_at
    )


def record_history(instance, collections: Iterable[tuple[datetime, Mapping[str, int | DatabaseSize]]]):
    """Several collections in order, then the aggregates brought up to date as after a run."""
    outcomes = [record_collection(instance, when, sizes) for when, sizes in collections]
    refresh_instance(instance)
    return outcomes
