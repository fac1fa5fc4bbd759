"""Saving one instance's collection: daily rows, the instance total, the inventory and the
instance's last status, in one transaction with a fixed number of queries (`save_sizes`).

The run drives it: `capacity.services.attempts` calls it as the owner of an attempt; the in-process
run (`capacity.services.collect`, which re-exports these names) and the task fan-out
(`capacity.services.fanout`) drive the attempts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from common.db import upsert
from instances.engines import CollectResult, DatabaseSize
from instances.models import Instance
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus
from sync_sessions.models import SyncInstanceRecord
from sync_sessions.services import Attempt

from ..models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from .tables import save_tables

__all__ = ["AttemptLost", "SaveOutcome", "save_sizes"]

_STAT_UPDATE_FIELDS = [
    "size_bytes",
    "data_size_bytes",
    "index_size_bytes",
    "log_size_bytes",
    "allocated_size_bytes",
    "collected_at",
    "is_deleted",
    "deleted_at",
    "is_carried_over",
]
_INVENTORY_UPDATE_FIELDS = [
    "is_system",
    "last_seen_at",
    "last_size_bytes",
    "last_data_size_bytes",
    "last_index_size_bytes",
    "last_log_size_bytes",
    "last_allocated_size_bytes",
    "is_deleted",
    "deleted_at",
    "restored_at",
]


# Seconds a queued task may take beyond the instance's collection limit (its save, the claim).
class AttemptLost(Exception):
    """The attempt no longer owns its record or its instance's lock: its result is dropped."""


@dataclass(frozen=True)
class SaveOutcome:
    collected_date: object
    databases_count: int
    saved_count: int
    deleted_count: int
    restored_count: int
    total_size_bytes: int
    carried_count: int = 0
    unseen_count: int = 0
    tables_saved: int = 0


def _notes(result: CollectResult, outcome: SaveOutcome) -> list[str]:
    notes = list(result.warnings)
    if outcome.deleted_count:
        notes.append(
            ngettext(
                "%(n)d database vanished and was marked deleted.",
                "%(n)d databases vanished and were marked deleted.",
                outcome.deleted_count,
            )
            % {"n": outcome.deleted_count}
        )
    if outcome.restored_count:
        notes.append(
            ngettext(
                "%(n)d database came back and was restored.",
                "%(n)d databases came back and were restored.",
                outcome.restored_count,
            )
            % {"n": outcome.restored_count}
        )
    if outcome.carried_count:
        notes.append(
            ngettext(
                "%(n)d database could not be read; its last known size is carried over for the day.",
                "%(n)d databases could not be read; their last known sizes are carried over for the day.",
                outcome.carried_count,
            )
            % {"n": outcome.carried_count}
        )
    if outcome.unseen_count:
        notes.append(
            ngettext(
                "The login may not see every database (narrower grants than the README lists): "
                "%(n)d database it did not see was kept, not taken for dropped.",
                "The login may not see every database (narrower grants than the README lists): "
                "%(n)d databases it did not see were kept, not taken for dropped.",
                outcome.unseen_count,
            )
            % {"n": outcome.unseen_count}
        )
    return notes


def save_sizes(
    instance: Instance, result: CollectResult, collected_at=None, *, attempt: Attempt | None = None
) -> SaveOutcome:
    """Save one instance's collection: a constant number of queries whatever its database count.

    Databases seen before but missing now get today's row marked deleted; databases that come
    back are restored. A database that exists but could not be read (`result.skipped`), and,
    when the listing may be incomplete, every known database the login did not see, keeps its
    last known size for the day, marked carried over, counted in the instance total. The total,
    the inventory and `last_connected` are written in the same transaction.

    With an `attempt`, the transaction first checks that the attempt still owns its record and
    the instance lock (raising AttemptLost, writing nothing, when it does not) and ends by
    completing the record, so a given-up attempt can never write.
    """
    now = collected_at or timezone.now()
    today = timezone.localdate(now)
    current = {db.name: db for db in result.databases}
    with transaction.atomic():
        if attempt is not None and not lifecycle.owns(attempt):
            raise AttemptLost()
        inventory = {row.database_name: row for row in DatabaseInventory.objects.filter(instance=instance)}
        live = {name: row for name, row in inventory.items() if not row.is_deleted and name not in current}
        unreadable = set(result.skipped)
        # Not listed although the login would see it: gone. Not listed and outside the login's view
        # (an incomplete listing, e.g. its grant on the schema was revoked): carried over.
        unseen = {name for name in live if name not in unreadable and not result.would_list(name)}
        carried = [row for name, row in live.items() if name in unreadable or name in unseen]
        vanished = [row for name, row in live.items() if name not in unreadable and name not in unseen]
        restored = [name for name in current if name in inventory and inventory[name].is_deleted]

        def last_known(row) -> DatabaseSize:
            return DatabaseSize(
                name=row.database_name,
                size_bytes=row.last_size_bytes,
                data_size_bytes=row.last_data_size_bytes,
                index_size_bytes=row.last_index_size_bytes,
                log_size_bytes=row.last_log_size_bytes,
                is_system=row.is_system,
                allocated_size_bytes=row.last_allocated_size_bytes,
            )

        # (size, deleted, carried over)
        rows = (
            [(db, False, False) for db in result.databases]
            + [(last_known(row), True, False) for row in vanished]
            + [(last_known(row), False, True) for row in carried]
        )
        upsert(
            DatabaseSizeStat,
            [
                DatabaseSizeStat(
                    instance=instance,
                    database_name=db.name,
                    size_bytes=db.size_bytes,
                    data_size_bytes=db.data_size_bytes,
                    index_size_bytes=db.index_size_bytes,
                    log_size_bytes=db.log_size_bytes,
                    allocated_size_bytes=db.allocated_size_bytes,
                    collected_date=today,
                    collected_at=now,
                    is_deleted=deleted,
                    deleted_at=now if deleted else None,
                    is_carried_over=kept,
                )
                for db, deleted, kept in rows
            ],
            ["instance", "database_name", "collected_date"],
            _STAT_UPDATE_FIELDS,
        )

        # Fresh objects, not the fetched rows: rows with a pk would make bulk_create split the
        # upsert into a second statement. Carried-over databases keep their inventory as it is.
        inventory_rows = []
        for db, deleted, kept in rows:
            if kept:
                continue
            known = inventory.get(db.name)
            inventory_rows.append(
                DatabaseInventory(
                    instance=instance,
                    database_name=db.name,
                    is_system=db.is_system,
                    first_seen_at=known.first_seen_at if known else now,
                    last_seen_at=known.last_seen_at if deleted else now,
                    last_size_bytes=db.size_bytes,
                    last_data_size_bytes=db.data_size_bytes,
                    last_index_size_bytes=db.index_size_bytes,
                    last_log_size_bytes=db.log_size_bytes,
                    last_allocated_size_bytes=db.allocated_size_bytes,
                    is_deleted=deleted,
                    deleted_at=now if deleted else None,
                    restored_at=now if db.name in restored else (known.restored_at if known else None),
                )
            )
        upsert(DatabaseInventory, inventory_rows, ["instance", "database_name"], _INVENTORY_UPDATE_FIELDS)

        counted = [db for db, deleted, _kept in rows if not deleted]
        total = sum(db.size_bytes for db in counted)
        # Beside the whole total (what the disk holds), the users' databases alone: README "System databases".
        users = [db for db in counted if not db.is_system]
        upsert(
            InstanceSizeStat,
            [
                InstanceSizeStat(
                    instance=instance,
                    total_size_bytes=total,
                    database_count=len(counted),
                    user_total_size_bytes=sum(db.size_bytes for db in users),
                    user_database_count=len(users),
                    collected_date=today,
                    collected_at=now,
                    is_deleted=False,
                )
            ],
            ["instance", "collected_date"],
            [
                "total_size_bytes",
                "database_count",
                "user_total_size_bytes",
                "user_database_count",
                "collected_at",
                "is_deleted",
            ],
        )
        tables = save_tables(instance, result, today, now)
        Instance.objects.filter(pk=instance.pk).update(
            last_connected=now,
            last_sync_at=now,
            last_sync_status=RecordStatus.COMPLETED,
            last_sync_error="",
            last_sync_error_kind="",
        )
        outcome = SaveOutcome(
            collected_date=today,
            databases_count=len(counted),
            saved_count=len(result.databases),
            deleted_count=len(vanished),
            restored_count=len(restored),
            total_size_bytes=total,
            carried_count=len(carried),
            unseen_count=len([row for row in carried if row.database_name in unseen]),
            tables_saved=tables.rows_saved,
        )
        if attempt is not None:
            # Still inside the transaction that checked ownership: nobody can settle it meanwhile.
            SyncInstanceRecord.objects.filter(pk=attempt.record_id).update(
                status=RecordStatus.COMPLETED,
                completed_at=timezone.now(),
                databases_count=outcome.databases_count,
                saved_count=outcome.saved_count,
                deleted_count=outcome.deleted_count,
                total_size_bytes=outcome.total_size_bytes,
                warnings=_notes(result, outcome),
            )
    return outcome
