"""The one collection path: admin action, API, command and schedule all end up here.

A run is one SyncSession with one SyncInstanceRecord per instance. Each record is collected by
`collect_record` (claim it, take the instance's lock, ask the engine, save), either

- in-process: `run_session` collects a session's records `concurrency` at a time in threads
  (collect_sizes, the per-instance sync-capacity endpoints, the admin's row button), or
- on the task cluster: `start_queued_collection` puts every record on the django-q2 broker as
  its own task (`capacity.tasks.collect_queued_record`), so every qcluster on every machine works
  on the same session (the nightly run, POST /api/capacity/collect/, the admin's bulk action).

Either way an attempt owns its record: the save commits only while the attempt still owns the
record and the instance lock, checked inside the save's own transaction, so an attempt given
up on (watchdog, time limit, sweeper, a run that took over its lock) writes nothing. Running
attempts beat every few seconds; the sweeper fails the ones whose worker stopped. A session is
finalised, exactly once, by whoever settles its last record.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.db import upsert
from instances import engines
from instances.choices import DbType, ErrorKind
from instances.engines import CollectResult, DatabaseSize, EngineError, get_engine
from instances.models import Instance
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession
from sync_sessions.services import (
    Attempt,
    acquire_instance_lock,
    active_instances,
    create_session,
    finalize_if_done,
    release_instance_lock,
)

from ..models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from ..signals import collection_finished

logger = logging.getLogger(__name__)

__all__ = [
    "SaveOutcome",
    "acquire_instance_lock",
    "active_instances",
    "collect",
    "collect_queued_record",
    "collect_record",
    "collect_session_by_id",
    "create_session",
    "finalize_session",
    "instance_time_limit",
    "release_instance_lock",
    "run_session",
    "save_sizes",
    "start_queued_collection",
    "sweep_collections",
    "task_time_limit",
]

ProgressCallback = Callable[[SyncInstanceRecord, int, int], None]

_STAT_UPDATE_FIELDS = [
    "size_bytes",
    "data_size_bytes",
    "index_size_bytes",
    "log_size_bytes",
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
    "is_deleted",
    "deleted_at",
    "restored_at",
]

# Seconds a queued task may take beyond the instance's collection limit (its save, the claim).
TASK_MARGIN_SECONDS = 15
# A pending record of a queued session is put on the broker again at most this often before
# the sweeper gives up on it (the Redis broker loses a killed cluster's prefetched tasks).
MAX_DISPATCHES = 3


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


# --- budgets -----------------------------------------------------------------------------------


def _fallback_time_limit() -> float:
    # Two bounded round trips (the most any adapter makes) after the connect, plus slack.
    return settings.CAPACITY_CONNECT_TIMEOUT + 2 * settings.CAPACITY_QUERY_TIMEOUT + 15


def instance_time_limit(db_type: str | None = None) -> float:
    """How long one instance may take before its attempt is given up on.

    The engine derives it from its adapter's declared bounded round trips and the configured
    connect and query timeouts (`instances.engines.engine_time_limit`); without a db_type, the
    longest of all engines. The drivers enforce their timeouts themselves; this is the backstop
    for a driver that does not (a server that accepts and then never answers).
    """
    derive = getattr(engines, "engine_time_limit", None)
    if derive is None:
        return _fallback_time_limit()
    types = [db_type] if db_type else list(DbType.values)
    limits = []
    for t in types:
        try:
            limits.append(float(derive(t)))
        except EngineError:  # no driver library for this engine: it fails fast anyway
            continue
    return max(limits) if limits else _fallback_time_limit()


def task_time_limit(db_type: str | None = None) -> int:
    """django-q2's per-task timeout for one queued instance: past it the worker process is killed."""
    limit = int(instance_time_limit(db_type) + TASK_MARGIN_SECONDS + lifecycle.heartbeat_seconds())
    return min(limit, int(settings.Q_CLUSTER.get("timeout") or limit))


# --- saving ------------------------------------------------------------------------------------


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
                    is_deleted=deleted,
                    deleted_at=now if deleted else None,
                    restored_at=now if db.name in restored else (known.restored_at if known else None),
                )
            )
        upsert(DatabaseInventory, inventory_rows, ["instance", "database_name"], _INVENTORY_UPDATE_FIELDS)

        counted = [db for db, deleted, _kept in rows if not deleted]
        total = sum(db.size_bytes for db in counted)
        upsert(
            InstanceSizeStat,
            [
                InstanceSizeStat(
                    instance=instance,
                    total_size_bytes=total,
                    database_count=len(counted),
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
        outcome = SaveOutcome(
            collected_date=today,
            databases_count=len(counted),
            saved_count=len(result.databases),
            deleted_count=len(vanished),
            restored_count=len(restored),
            total_size_bytes=total,
            carried_count=len(carried),
            unseen_count=len([row for row in carried if row.database_name in unseen]),
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


# --- one instance ------------------------------------------------------------------------------


def _start_attempt(record: SyncInstanceRecord) -> Attempt | None:
    """Claim the record and its instance's lock; None when there is nothing (more) to do.

    Never raises: a failure here (a locked or overloaded platform database) fails the record.
    """
    try:
        instance = record.instance
        if instance is None:
            lifecycle.settle(
                record.pk,
                RecordStatus.SKIPPED,
                only_if=[RecordStatus.PENDING],
                error=_("The instance was deleted before it could be collected."),
            )
            return None
        if not instance.is_active:
            lifecycle.settle(
                record.pk,
                RecordStatus.SKIPPED,
                only_if=[RecordStatus.PENDING],
                error=_("The instance is inactive."),
                error_kind="",
            )
            return None
        attempt = lifecycle.claim(record)
        if attempt is None:
            return None  # settled, cancelled, or owned by another delivery of the same task
        try:
            locked = acquire_instance_lock(instance.pk, attempt.token)
        except Exception as exc:
            logger.exception("locking %s failed", instance.name)
            lifecycle.fail(record, ErrorKind.DATA, _one_line(_("Locking the instance failed"), exc), attempt=attempt)
            return None
        if not locked:
            lifecycle.skip(record, _("Skipped: another run is collecting this instance right now."), attempt=attempt)
            return None
        return attempt
    except Exception as exc:
        logger.exception("starting the collection of %s failed", record.instance_name)
        _last_resort_fail(record, exc)
        return None


def _one_line(prefix: str, exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{prefix}: {type(exc).__name__}: {text}"[:1000]


def _last_resort_fail(record: SyncInstanceRecord, exc: BaseException, attempt: Attempt | None = None) -> None:
    try:
        lifecycle.fail(record, ErrorKind.DATA, _one_line(_("Collecting failed"), exc), attempt=attempt)
    except Exception:  # the platform database is gone: the run loop or the sweeper settles it
        logger.exception("could not fail the record of %s", record.instance_name)


def _ask(instance: Instance) -> CollectResult | Exception:
    """The engine's answer for one instance, or the exception it raised. Touches no platform table."""
    try:
        with get_engine(instance) as engine:
            return engine.list_database_sizes()
    except Exception as exc:
        return exc


def _conclude(record: SyncInstanceRecord, attempt: Attempt, answer: CollectResult | Exception) -> None:
    """Save the answer (or fail the record), as the owner of `attempt`, then release the lock. Never raises."""
    instance = record.instance
    try:
        if isinstance(answer, EngineError):
            logger.warning("collect %s failed (%s): %s", instance.name, answer.kind, answer.message)
            lifecycle.fail(record, answer.kind, answer.message, attempt=attempt)
            return
        if isinstance(answer, Exception):
            raise answer
        try:
            save_sizes(instance, answer, attempt=attempt)
        except AttemptLost:
            logger.warning("collect %s finished after its attempt was given up on; nothing saved", instance.name)
            # Settled already (watchdog, sweeper) unless another run took the lock over meanwhile.
            lifecycle.fail(
                record,
                ErrorKind.TIMEOUT,
                _("Another run took this instance over before the sizes were saved; nothing was saved."),
                attempt=attempt,
            )
        except Exception as exc:
            logger.exception("saving sizes of %s failed", instance.name)
            lifecycle.fail(record, ErrorKind.DATA, _one_line(_("Saving the sizes failed"), exc), attempt=attempt)
    except Exception as exc:  # the run must go on whatever one instance does
        logger.exception("collect %s failed unexpectedly", instance.name)
        _last_resort_fail(record, exc, attempt)
    finally:
        try:
            release_instance_lock(instance.pk, attempt.token)
        except Exception:  # a lock nobody refreshes goes stale and is taken over
            logger.exception("releasing the lock of %s failed", instance.name)


def _perform(record: SyncInstanceRecord, attempt: Attempt) -> None:
    """Ask the engine and save, as the owner of `attempt`. Never raises."""
    _conclude(record, attempt, _ask(record.instance))


def _timeout_message(limit: float) -> str:
    return lifecycle.platform_text(
        lambda: _("No answer within %(s)d seconds; the run stopped waiting for this instance.") % {"s": int(limit)}
    )


def _collect_in_this_worker(record: SyncInstanceRecord) -> bool:
    """Collect one record in a task worker; True when the instance was given up on.

    Only the engine call runs in a helper thread (it touches no platform table); claiming,
    beating, giving up and saving happen here, on the worker process's own connection, so a
    driver that answers after the give-up has nothing it could write.
    """
    attempt = _start_attempt(record)
    if attempt is None:
        return False
    instance = record.instance
    answer: list = []
    finished = threading.Event()

    def ask():
        try:
            answer.append(_ask(instance))
        finally:
            finished.set()

    threading.Thread(target=ask, name=f"collect-{record.pk}", daemon=True).start()
    limit = instance_time_limit(instance.db_type)
    every = lifecycle.heartbeat_seconds()
    started = time.monotonic()
    while not finished.wait(max(0.01, min(every, limit - (time.monotonic() - started)))):
        if time.monotonic() - started >= limit:
            try:
                lifecycle.fail(record, ErrorKind.TIMEOUT, _timeout_message(limit), attempt=attempt)
                release_instance_lock(instance.pk, attempt.token)
            except Exception:  # the sweeper settles it once the beats stop
                logger.exception("giving up on %s failed", instance.name)
            return True
        try:
            lifecycle.beat([attempt])
        except Exception:  # a missed beat is survivable; six in a row let the sweeper act
            logger.exception("heartbeat of %s failed", instance.name)
    _conclude(record, attempt, answer[0])
    return False


def collect_record(record: SyncInstanceRecord) -> Attempt | None:
    """Collect one record in the calling thread (no watchdog, no heartbeat). Never raises."""
    attempt = _start_attempt(record)
    if attempt is not None:
        _perform(record, attempt)
    return attempt


# --- sessions ----------------------------------------------------------------------------------


def _announce(session: SyncSession) -> None:
    collection_finished.send(sender=None, session=session)  # receivers must not fail a collection


def finalize_session(session: SyncSession) -> SyncSession:
    """Close the session if nothing in it is open (announcing it once); returns it fresh."""
    closed = finalize_if_done(session.pk)
    if closed is not None:
        _announce(closed)
        return closed
    session.refresh_from_db()
    return session


def _run_records(
    session: SyncSession,
    records: list[SyncInstanceRecord],
    *,
    concurrency: int,
    progress: ProgressCallback | None = None,
    beat_session: bool,
) -> set[int]:
    """Collect `records` in `concurrency` threads while this thread beats and keeps the watchdog.

    Returns once every one of them is settled: by its thread, by the watchdog after its time
    limit, or, should even failing it be impossible, as a last resort at the end. Returns the
    ids of the records the watchdog gave up on (their threads may still be stuck in a driver).
    """
    total = len(records)
    given_up: set[int] = set()
    if not total:
        return given_up
    work: queue.Queue = queue.Queue()
    for record in records:
        work.put(record)
    done: queue.Queue = queue.Queue()
    active: dict[int, tuple[Attempt, float]] = {}
    owned: dict[int, Attempt] = {}
    guard = threading.Lock()
    by_id = {r.pk: r for r in records}

    def worker():
        translation.activate(settings.LANGUAGE_CODE)
        try:
            while True:
                try:
                    record = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    attempt = _start_attempt(record)
                    if attempt is not None:
                        with guard:
                            active[record.pk] = (attempt, time.monotonic())
                            owned[record.pk] = attempt
                        _perform(record, attempt)
                finally:
                    done.put(record.pk)
        finally:
            connections.close_all()  # this thread's own platform connection
            translation.deactivate()

    def spawn():
        # Daemon threads: a driver stuck beyond every timeout must not keep the process alive.
        threading.Thread(target=worker, name=f"collect-{session.pk}", daemon=True).start()

    for _i in range(min(concurrency, total)):
        spawn()

    beat_every = lifecycle.heartbeat_seconds()
    next_beat = time.monotonic() + beat_every
    settled: set[int] = set()
    while len(settled) < total:
        try:
            record_id = done.get(timeout=min(0.5, beat_every))
        except queue.Empty:
            record_id = None
        if record_id is not None and record_id not in settled:
            settled.add(record_id)
            with guard:
                active.pop(record_id, None)
            if progress:
                by_id[record_id].refresh_from_db()
                progress(by_id[record_id], len(settled), total)
        now = time.monotonic()
        with guard:
            running = dict(active)
        for rid, (attempt, t0) in running.items():
            record = by_id[rid]
            limit = instance_time_limit(record.instance.db_type if record.instance else None)
            if now - t0 <= limit:
                continue
            try:
                lifecycle.fail(record, ErrorKind.TIMEOUT, _timeout_message(limit), attempt=attempt)
                release_instance_lock(attempt.instance_id, attempt.token)
            except Exception:
                logger.exception("giving up on %s failed", record.instance_name)
                continue  # tried again on the next turn
            settled.add(rid)
            given_up.add(rid)
            with guard:
                active.pop(rid, None)
            spawn()  # keep the concurrency: the stuck thread no longer counts
            if progress:
                record.refresh_from_db()
                progress(record, len(settled), total)
        if now >= next_beat:
            next_beat = now + beat_every
            try:
                lifecycle.beat([a for a, _t0 in running.values()], session.pk if beat_session else None)
            except Exception:  # a missed beat is survivable; six in a row let the sweeper act
                logger.exception("heartbeat of session %s failed", session.pk)
    close_old_connections()
    # Whatever is still open of these records was never claimed, or failing it failed: one more try.
    ids = [r.pk for r in records]
    for record in SyncInstanceRecord.objects.filter(pk__in=ids, status__in=lifecycle.OPEN):
        attempt = owned.get(record.pk)
        rows = SyncInstanceRecord.objects.filter(pk=record.pk)
        if attempt is not None:
            rows = rows.filter(status=RecordStatus.RUNNING, attempt=attempt.token)
        else:
            rows = rows.filter(status=RecordStatus.PENDING)  # a running one belongs to someone else
        message = lifecycle.platform_text(lambda: _("The run ended before this instance was collected."))
        lifecycle.fail_where(rows, record, ErrorKind.DATA, message)
    return given_up


def run_session(
    session: SyncSession, *, concurrency: int | None = None, progress: ProgressCallback | None = None
) -> SyncSession:
    """Collect every pending record of a session in this process, `concurrency` instances at once."""
    concurrency = max(1, int(concurrency or settings.CAPACITY_CONCURRENCY))
    lifecycle.beat([], session.pk)  # this session is alive: the sweep below must not close it
    sweep_collections()
    records = list(
        session.records.filter(status=RecordStatus.PENDING).select_related("instance", "instance__credential")
    )
    with translation.override(settings.LANGUAGE_CODE):
        _run_records(session, records, concurrency=concurrency, progress=progress, beat_session=True)
    return finalize_session(session)


def collect(
    instances: Iterable[Instance] | None = None,
    *,
    sync_type: str = SyncType.MANUAL,
    created_by=None,
    concurrency: int | None = None,
    progress: ProgressCallback | None = None,
) -> SyncSession:
    """Collect the given instances (all active ones by default) in one new session, in this process."""
    session = create_session(instances, sync_type=sync_type, created_by=created_by)
    return run_session(session, concurrency=concurrency, progress=progress)


def collect_session_by_id(session_id, concurrency: int | None = None) -> SyncSession:
    """Run a session created earlier, in this process."""
    session = SyncSession.objects.get(session_id=session_id)
    return run_session(session, concurrency=concurrency)


# --- on the task cluster -----------------------------------------------------------------------


def _dispatch(records: list[SyncInstanceRecord]) -> int:
    """Put each record on the broker as its own task, with a timeout from its engine's budget."""
    from django_q.brokers import get_broker
    from django_q.tasks import async_task

    if not records:
        return 0
    broker = get_broker()  # one connection for the whole batch, not one per task
    SyncInstanceRecord.objects.filter(pk__in=[r.pk for r in records], status=RecordStatus.PENDING).update(
        dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1
    )
    for record in records:
        async_task(
            "capacity.tasks.collect_queued_record",
            record.pk,
            task_name=f"collect-{record.session.session_id}-{record.pk}",
            timeout=task_time_limit(record.instance.db_type if record.instance else None),
            broker=broker,
        )
    return len(records)


def start_queued_collection(
    instances: Iterable[Instance] | None = None, *, sync_type: str = SyncType.MANUAL, created_by=None
) -> SyncSession:
    """Open a session and put each of its instances on the task broker; returns the session.

    Every qcluster (on every machine sharing the broker) works on it; whoever settles the last
    record finalises it. With nothing to collect the session is closed at once.
    """
    session = create_session(instances, sync_type=sync_type, created_by=created_by, queued=True)
    records = list(session.records.select_related("instance", "session"))
    if not records:
        return finalize_session(session)
    _dispatch(records)
    session.refresh_from_db()
    return session


def collect_queued_record(record_id: int) -> str:
    """The task body: collect one record of a queued session, beating while it waits.

    A late or duplicate delivery (the record is no longer pending) does nothing. The watchdog
    gives up on the instance after its time limit (writing the failure); django-q2's per-task
    timeout, a little longer, then ends the worker process for real.
    """
    record = (
        SyncInstanceRecord.objects.select_related("instance", "instance__credential", "session")
        .filter(pk=record_id)
        .first()
    )
    if record is None or record.status != RecordStatus.PENDING:
        return "already settled"
    session = record.session
    started = time.monotonic()
    with translation.override(settings.LANGUAGE_CODE):
        given_up = _collect_in_this_worker(record)
    closed = finalize_if_done(session.pk)
    if closed is not None:
        _announce(closed)
    if given_up and not settings.Q_CLUSTER.get("sync"):
        # The driver is stuck past every timeout. Rather than leave its thread behind in a
        # reused worker process, wait for django-q2's per-task timeout to end this process.
        budget = task_time_limit(record.instance.db_type if record.instance else None)
        time.sleep(max(0.0, budget + 5 - (time.monotonic() - started)))
    return SyncInstanceRecord.objects.values_list("status", flat=True).get(pk=record_id)


def _broker_queue_size() -> int | None:
    try:
        from django_q.brokers import get_broker

        return get_broker().queue_size()
    except Exception:  # the broker is down: nothing can be said about lost tasks
        logger.exception("could not read the task queue's size")
        return None


def sweep_collections(now=None) -> dict:
    """Settle lost work, put tasks lost with a killed cluster back, close finished sessions.

    Runs every minute on the cluster's schedule and at the start of every run. Records whose
    worker stopped fail as `timeout` (see sync_sessions.services.sweep). A queued session with
    pending records, nothing left on the broker and no sign of life for `stale_after()` lost
    those tasks (the Redis broker drops a killed cluster's prefetched tasks): they are queued
    again, up to MAX_DISPATCHES times, after which they fail. A duplicate is harmless: a task
    whose record is no longer pending does nothing.
    """
    now = now or timezone.now()
    outcome = lifecycle.sweep(now)
    requeued = given_up = 0
    cutoff = now - timedelta(seconds=lifecycle.stale_after())
    stalled = (
        SyncSession.objects.filter(status=SessionStatus.RUNNING, queued=True, records__status=RecordStatus.PENDING)
        .distinct()
        .values_list("pk", flat=True)
    )
    stalled = list(stalled)
    if stalled and _broker_queue_size() == 0:
        for session_id in stalled:
            last_sign = SyncInstanceRecord.objects.filter(session_id=session_id).aggregate(
                last=Max(Greatest("dispatched_at", "heartbeat_at", "completed_at", "started_at"))
            )["last"]
            if last_sign is not None and last_sign >= cutoff:
                continue
            pending = list(
                SyncInstanceRecord.objects.filter(session_id=session_id, status=RecordStatus.PENDING).select_related(
                    "instance", "session"
                )
            )
            retry = [r for r in pending if r.dispatch_count < MAX_DISPATCHES]
            requeued += _dispatch(retry)
            message = lifecycle.platform_text(
                lambda: _("Queued %(n)d times and never picked up by a worker.") % {"n": MAX_DISPATCHES}
            )
            for record in pending:
                if record.dispatch_count >= MAX_DISPATCHES:
                    rows = SyncInstanceRecord.objects.filter(pk=record.pk, status=RecordStatus.PENDING)
                    given_up += lifecycle.fail_where(rows, record, ErrorKind.TIMEOUT, message)
            closed = finalize_if_done(session_id)
            if closed is not None:
                outcome.finalized.append(closed)
    for session in outcome.finalized:
        _announce(session)
    return {
        "failed_records": outcome.failed_records + given_up,
        "requeued_records": requeued,
        "finalized_sessions": len(outcome.finalized),
    }


# Older name, kept for callers from before the sweeper.
settle_interrupted_sessions = sweep_collections
