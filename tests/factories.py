"""The one way tests write size history: through the collection service, as a collection run would.

`record_history` saves each collection with `capacity.services.collect.save_sizes` (daily rows, the
instance total and the inventory, exactly as production writes them) and then brings the aggregates up
to date the way a finished run does (capacity.receivers). Nothing here writes a history row the service
did not write: `record_history(..., reuse_key=)` copies the rows the service wrote for the same key before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
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
    instance,
    collected_at: datetime,
    sizes: Mapping[str, int | DatabaseSize],
    *,
    vanished: Mapping[str, int] = (),
    unreadable: Iterable[str] = (),
):
    """One collection of `instance` at `collected_at`. `vanished` names databases that existed (with
    that last size) and are gone now: they are seen once just before, then missed, as in production.
    `unreadable` names databases the engine listed but could not read: their last known size is
    carried over (`is_carried_over`)."""
    if vanished:
        seen = {**{n: database(n, s) for n, s in vanished.items()}, **{n: database(n, s) for n, s in sizes.items()}}
        save_sizes(
            instance, CollectResult(databases=list(seen.values())), collected_at=collected_at - timedelta(minutes=1)
        )
    result = CollectResult(databases=[database(n, s) for n, s in sizes.items()], skipped=list(unreadable))
    return save_sizes(instance, result, collected_at=collected_at)


# What the service wrote for a `reuse_key`, per test process: (rows per model, instance fields, outcomes).
_WRITTEN: dict = {}
_HISTORY_MODELS = (DatabaseSizeStat, InstanceSizeStat, DatabaseInventory)
_INSTANCE_FIELDS = ("last_connected", "last_sync_at", "last_sync_status", "last_sync_error", "last_sync_error_kind")


def record_history(
    instance, collections: Iterable[tuple[datetime, Mapping[str, int | DatabaseSize]]], *, reuse_key=None
):
    """Several collections in order, then the aggregates brought up to date as after a run.

    With a `reuse_key` (a generated fleet many tests write again), the rows the service wrote the
    first time are remembered and copied, unchanged, onto the next instance given the same key
    (and the same collections, which the caller's key must imply) instead of saving them again.
    """
    if reuse_key is not None and reuse_key in _WRITTEN:
        rows, fields, outcomes = _WRITTEN[reuse_key]
        for model in _HISTORY_MODELS:
            model.objects.bulk_create([model(instance=instance, **row) for row in rows[model]], batch_size=500)
        type(instance).objects.filter(pk=instance.pk).update(**fields)
        instance.refresh_from_db()
    else:
        outcomes = [record_collection(instance, when, sizes) for when, sizes in collections]
        if reuse_key is not None:
            rows = {
                model: [
                    {k: v for k, v in row.items() if k not in ("id", "instance_id")}
                    for row in model.objects.filter(instance=instance).values()
                ]
                for model in _HISTORY_MODELS
            }
            fields = type(instance).objects.filter(pk=instance.pk).values(*_INSTANCE_FIELDS).get()
            _WRITTEN[reuse_key] = (rows, fields, outcomes)
    refresh_instance(instance)
    return outcomes
