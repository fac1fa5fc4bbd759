"""The one collection path: admin action, API, command and schedule all end up here.

A run is one SyncSession with one SyncInstanceRecord per instance. Instances are collected
concurrently, each in its own thread with its own target connection and its own platform
database connection. Each instance is saved in its own short transaction, in a constant
number of queries, so one failing or hanging instance never rolls back or holds up another.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from instances.choices import ErrorKind
from instances.engines import CollectResult, DatabaseSize, EngineError, get_engine
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession

from ..models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from ..signals import collection_finished

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[SyncInstanceRecord, int, int], None]

_STAT_UPDATE_FIELDS = [
    "size_bytes",
    "data_size_bytes",
    "index_size_bytes",
    "log_size_bytes",
    "collected_at",
    "is_deleted",
    "deleted_at",
]
_INVENTORY_UPDATE_FIELDS = [
    "is_system",
    "last_seen_at",
    "last_size_bytes",
    "last_data_size_bytes",
    "last_index_size_bytes",
    "last_log_size_bytes",
    "is_deleted",
    "deleted_at",
    "restored_at",
]


@dataclass(frozen=True)
class SaveOutcome:
    collected_date: object
    databases_count: int
    saved_count: int
    deleted_count: int
    restored_count: int
    total_size_bytes: int


def instance_time_limit() -> float:
    """How long one instance may take before the run gives up waiting on it.

    The drivers enforce the connect and query timeouts themselves; this is the backstop for
    a driver that does not (a server that accepts and then never answers).
    """
    return settings.CAPACITY_CONNECT_TIMEOUT + settings.CAPACITY_QUERY_TIMEOUT + 15


def _upsert(model, objects: list, unique_fields: list[str], update_fields: list[str]) -> None:
    """One INSERT … ON CONFLICT UPDATE for all objects (MySQL's form names no conflict target)."""
    if not objects:
        return
    target = unique_fields if connection.features.supports_update_conflicts_with_target else None
    model.objects.bulk_create(objects, update_conflicts=True, unique_fields=target, update_fields=update_fields)


# --- saving ----------------------------------------------------------------------------------


def save_sizes(instance: Instance, result: CollectResult, collected_at=None) -> SaveOutcome:
    """Save one instance's collection: a constant number of queries whatever its database count.

    Databases seen before but missing now (and not merely unreadable) get today's row marked
    deleted; databases that come back are restored. The instance total, the inventory and
    `last_connected` are written in the same transaction.
    """
    now = collected_at or timezone.now()
    today = timezone.localdate(now)
    current = {db.name: db for db in result.databases}
    skipped = set(result.skipped)
    with transaction.atomic():
        inventory = {row.database_name: row for row in DatabaseInventory.objects.filter(instance=instance)}
        vanished = [
            row for name, row in inventory.items() if not row.is_deleted and name not in current and name not in skipped
        ]
        restored = [name for name in current if name in inventory and inventory[name].is_deleted]

        # A vanished database keeps its last known size on the day it disappeared, marked deleted.
        gone = [
            DatabaseSize(
                name=row.database_name,
                size_bytes=row.last_size_bytes,
                data_size_bytes=row.last_data_size_bytes,
                index_size_bytes=row.last_index_size_bytes,
                log_size_bytes=row.last_log_size_bytes,
                is_system=row.is_system,
            )
            for row in vanished
        ]
        rows = [(db, False) for db in result.databases] + [(db, True) for db in gone]
        _upsert(
            DatabaseSizeStat,
            [
                DatabaseSizeStat(
                    instance=instance,
                    database_name=db.name,
                    size_bytes=db.size_bytes,
                    data_size_bytes=db.data_size_bytes,
                    index_size_bytes=db.index_size_bytes,
                    log_size_bytes=db.log_size_bytes,
                    collected_date=today,
                    collected_at=now,
                    is_deleted=deleted,
                    deleted_at=now if deleted else None,
                )
                for db, deleted in rows
            ],
            ["instance", "database_name", "collected_date"],
            _STAT_UPDATE_FIELDS,
        )

        # Fresh objects, not the fetched rows: rows with a pk would make bulk_create split the
        # upsert into a second statement.
        inventory_rows = []
        for db, deleted in rows:
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
                    is_deleted=deleted,
                    deleted_at=now if deleted else None,
                    restored_at=now if db.name in restored else (known.restored_at if known else None),
                )
            )
        _upsert(DatabaseInventory, inventory_rows, ["instance", "database_name"], _INVENTORY_UPDATE_FIELDS)

        total = sum(db.size_bytes for db in result.databases)
        _upsert(
            InstanceSizeStat,
            [
                InstanceSizeStat(
                    instance=instance,
                    total_size_bytes=total,
                    database_count=len(result.databases),
                    collected_date=today,
                    collected_at=now,
                    is_deleted=False,
                )
            ],
            ["instance", "collected_date"],
            ["total_size_bytes", "database_count", "collected_at", "is_deleted"],
        )
        Instance.objects.filter(pk=instance.pk).update(
            last_connected=now,
            last_sync_at=now,
            last_sync_status=RecordStatus.COMPLETED,
            last_sync_error="",
            last_sync_error_kind="",
        )
    return SaveOutcome(
        collected_date=today,
        databases_count=len(result.databases),
        saved_count=len(result.databases),
        deleted_count=len(vanished),
        restored_count=len(restored),
        total_size_bytes=total,
    )


# --- per-instance lock -----------------------------------------------------------------------


def acquire_instance_lock(instance_id: int, token: uuid.UUID) -> bool:
    """Take the instance's collection lock with one conditional UPDATE (works on every backend).

    A lock older than the longest a collection can take is stale (its holder died) and is taken over.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=instance_time_limit() * 2)
    return bool(
        Instance.objects.filter(pk=instance_id)
        .filter(Q(collection_lock__isnull=True) | Q(collection_locked_at__lt=stale) | Q(collection_lock=token))
        .update(collection_lock=token, collection_locked_at=now)
    )


def release_instance_lock(instance_id: int, token: uuid.UUID) -> None:
    Instance.objects.filter(pk=instance_id, collection_lock=token).update(
        collection_lock=None, collection_locked_at=None
    )


# --- sessions --------------------------------------------------------------------------------


def active_instances():
    return Instance.objects.filter(is_active=True).order_by("name")


def create_session(
    instances: Iterable[Instance] | None = None, *, sync_type: str = SyncType.MANUAL, created_by=None
) -> SyncSession:
    """Open a session with one pending record per instance (all active instances by default)."""
    instances = list(active_instances() if instances is None else instances)
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    with transaction.atomic():
        session = SyncSession.objects.create(
            sync_type=sync_type, status=SessionStatus.RUNNING, total_instances=len(instances), created_by=user
        )
        SyncInstanceRecord.objects.bulk_create(
            [SyncInstanceRecord(session=session, instance=i, instance_name=i.name) for i in instances]
        )
    return session


def _finish_record(record_id: int, *, status: str, only_if: Iterable[str], **fields) -> bool:
    """Write a record's outcome unless someone (the watchdog) already settled it."""
    fields.setdefault("completed_at", timezone.now())
    return bool(
        SyncInstanceRecord.objects.filter(pk=record_id, status__in=list(only_if)).update(status=status, **fields)
    )


def _fail(record: SyncInstanceRecord, kind: str, message: str) -> None:
    if (
        _finish_record(
            record.pk,
            status=RecordStatus.FAILED,
            only_if=[RecordStatus.PENDING, RecordStatus.RUNNING],
            error=message,
            error_kind=kind,
        )
        and record.instance_id
    ):
        Instance.objects.filter(pk=record.instance_id).update(
            last_sync_at=timezone.now(),
            last_sync_status=RecordStatus.FAILED,
            last_sync_error=message,
            last_sync_error_kind=kind,
        )


def collect_record(record: SyncInstanceRecord, session_token: uuid.UUID) -> None:
    """Collect one instance of a session and write its record. Never raises."""
    instance = record.instance
    if instance is None:
        _finish_record(
            record.pk,
            status=RecordStatus.SKIPPED,
            only_if=[RecordStatus.PENDING],
            error=_("The instance was deleted before it could be collected."),
        )
        return
    if not instance.is_active:
        _finish_record(
            record.pk,
            status=RecordStatus.SKIPPED,
            only_if=[RecordStatus.PENDING],
            error=_("The instance is inactive."),
            error_kind="",
        )
        return
    if not acquire_instance_lock(instance.pk, session_token):
        _finish_record(
            record.pk,
            status=RecordStatus.SKIPPED,
            only_if=[RecordStatus.PENDING],
            error=_("Skipped: another run is collecting this instance right now."),
        )
        return
    try:
        SyncInstanceRecord.objects.filter(pk=record.pk).update(status=RecordStatus.RUNNING, started_at=timezone.now())
        try:
            with get_engine(instance) as engine:
                result = engine.list_database_sizes()
        except EngineError as exc:
            logger.warning("collect %s failed (%s): %s", instance.name, exc.kind, exc.message)
            _fail(record, exc.kind, exc.message)
            return
        try:
            outcome = save_sizes(instance, result)
        except Exception as exc:
            logger.exception("saving sizes of %s failed", instance.name)
            _fail(record, ErrorKind.DATA, _("Saving the sizes failed: %(err)s") % {"err": exc})
            return
        notes = list(result.warnings)
        if outcome.deleted_count:
            notes.append(_("%(n)d database(s) vanished and were marked deleted.") % {"n": outcome.deleted_count})
        if outcome.restored_count:
            notes.append(_("%(n)d database(s) came back and were restored.") % {"n": outcome.restored_count})
        if not _finish_record(
            record.pk,
            status=RecordStatus.COMPLETED,
            only_if=[RecordStatus.RUNNING],
            databases_count=outcome.databases_count,
            saved_count=outcome.saved_count,
            deleted_count=outcome.deleted_count,
            total_size_bytes=outcome.total_size_bytes,
            warnings=notes,
        ):
            logger.warning("collect %s finished after the run had given up on it", instance.name)
    except Exception as exc:  # the run must go on whatever one instance does
        logger.exception("collect %s failed unexpectedly", instance.name)
        _fail(record, ErrorKind.DATA, f"{type(exc).__name__}: {exc}")
    finally:
        release_instance_lock(instance.pk, session_token)


def finalize_session(session: SyncSession) -> SyncSession:
    """Settle the session's totals and status from its records."""
    records = list(session.records.all())
    by_status = {s: 0 for s in RecordStatus.values}
    for r in records:
        by_status[r.status] += 1
    session.successful_instances = by_status[RecordStatus.COMPLETED]
    session.failed_instances = by_status[RecordStatus.FAILED]
    session.skipped_instances = by_status[RecordStatus.SKIPPED]
    session.total_instances = len(records)
    session.total_databases = sum(r.databases_count for r in records if r.status == RecordStatus.COMPLETED)
    session.total_size_bytes = sum(r.total_size_bytes for r in records if r.status == RecordStatus.COMPLETED)
    if session.failed_instances == 0:
        session.status = SessionStatus.COMPLETED
    elif session.successful_instances == 0:
        session.status = SessionStatus.FAILED
    else:
        session.status = SessionStatus.PARTIAL
    session.completed_at = timezone.now()
    session.save()
    return session


def settle_interrupted_sessions() -> int:
    """Close sessions whose process died mid-run (a killed worker, a reboot), so none stays "running".

    A session still running after the task time limit can no longer be making progress: its
    unfinished records fail as timeouts and the session gets its final status.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"] + instance_time_limit())
    stale = list(SyncSession.objects.filter(status=SessionStatus.RUNNING, started_at__lt=cutoff))
    for session in stale:
        with translation.override(settings.LANGUAGE_CODE):
            message = _("Interrupted: the run stopped before this instance was collected.")
        session.records.filter(status__in=[RecordStatus.PENDING, RecordStatus.RUNNING]).update(
            status=RecordStatus.FAILED, error=message, error_kind=ErrorKind.TIMEOUT, completed_at=timezone.now()
        )
        finalize_session(session)
    return len(stale)


def run_session(
    session: SyncSession, *, concurrency: int | None = None, progress: ProgressCallback | None = None
) -> SyncSession:
    """Collect every pending record of a session, `concurrency` instances at once."""
    concurrency = max(1, int(concurrency or settings.CAPACITY_CONCURRENCY))
    records = list(
        session.records.filter(status=RecordStatus.PENDING).select_related("instance", "instance__credential")
    )
    total = len(records)
    if not records:
        return finalize_session(session)

    work: queue.Queue = queue.Queue()
    for record in records:
        work.put(record)
    done: queue.Queue = queue.Queue()
    started: dict[int, float] = {}
    by_id = {r.pk: r for r in records}

    def worker():
        # Records are read by the whole team: their text is in the platform's language,
        # whatever language the request that started the run was in.
        translation.activate(settings.LANGUAGE_CODE)
        try:
            while True:
                try:
                    record = work.get_nowait()
                except queue.Empty:
                    return
                started[record.pk] = time.monotonic()
                try:
                    collect_record(record, session.session_id)
                finally:
                    done.put(record.pk)
        finally:
            connections.close_all()  # this thread's own platform connection
            translation.deactivate()

    def spawn():
        # Daemon threads: a driver stuck beyond every timeout must not keep the process alive.
        thread = threading.Thread(target=worker, name=f"collect-{session.pk}", daemon=True)
        thread.start()

    for _i in range(min(concurrency, total)):
        spawn()

    limit = instance_time_limit()
    settled: set[int] = set()
    while len(settled) < total:
        try:
            record_id = done.get(timeout=0.5)
        except queue.Empty:
            record_id = None
        if record_id is not None and record_id not in settled:
            settled.add(record_id)
            if progress:
                by_id[record_id].refresh_from_db()
                progress(by_id[record_id], len(settled), total)
        now = time.monotonic()
        for rid, t0 in list(started.items()):
            if rid in settled or now - t0 <= limit:
                continue
            record = by_id[rid]
            with translation.override(settings.LANGUAGE_CODE):
                message = _("No answer within %(s)d seconds; the run stopped waiting for this instance.") % {
                    "s": int(limit)
                }
            _fail(record, ErrorKind.TIMEOUT, message)
            settled.add(rid)
            spawn()  # keep the concurrency: the stuck thread no longer counts
            if progress:
                record.refresh_from_db()
                progress(record, len(settled), total)
    close_old_connections()
    session.refresh_from_db()
    session = finalize_session(session)
    collection_finished.send(sender=None, session=session)  # receivers must not fail a collection
    return session


def collect(
    instances: Iterable[Instance] | None = None,
    *,
    sync_type: str = SyncType.MANUAL,
    created_by=None,
    concurrency: int | None = None,
    progress: ProgressCallback | None = None,
) -> SyncSession:
    """Collect the given instances (all active ones by default) in one new session."""
    session = create_session(instances, sync_type=sync_type, created_by=created_by)
    return run_session(session, concurrency=concurrency, progress=progress)


def collect_session_by_id(session_id, concurrency: int | None = None) -> SyncSession:
    """Run a session created earlier (the queued API collection and the scheduler use this)."""
    session = SyncSession.objects.get(session_id=session_id)
    return run_session(session, concurrency=concurrency)
