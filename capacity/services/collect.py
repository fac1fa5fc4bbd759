"""The one collection path: admin action, API, command and schedule all end up here.

A run is one SyncSession with one SyncInstanceRecord per instance. Each record is collected by
one attempt (`capacity.services.attempts`: claim it, take the instance's lock, ask the engine,
save), either

- in this process: `collect`/`run_session` (this module) collect a session's records
  `concurrency` at a time in threads while this thread beats and keeps the watchdog
  (collect_sizes, the per-instance sync-capacity endpoints, the admin's row button), or
- on the task cluster: `start_queued_collection` (`capacity.services.fanout`) puts every record on
  the django-q2 broker as its own task, so every qcluster on every machine works on the same
  session (the nightly run, POST /api/capacity/collect/, the admin's bulk action).

Time limits come from `capacity.services.budgets`; the sweeper (`capacity.services.sweeper`)
settles what a stopped worker left. This module also re-exports the names of those modules, so
`capacity.services.collect` stays the one place callers import the collection from.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import translation
from django.utils.translation import gettext as _

from instances.choices import ErrorKind
from instances.models import Instance
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession
from sync_sessions.services import (
    Attempt,
    acquire_instance_lock,
    active_instances,
    create_session,
    release_instance_lock,
)

from . import attempts, budgets, sweeper
from .attempts import collect_record, finalize_session
from .budgets import TASK_MARGIN_SECONDS, instance_time_limit, table_time_limit, tables_wanted, task_time_limit
from .fanout import MAX_DISPATCHES, collect_queued_record, start_queued_collection
from .save import AttemptLost, SaveOutcome, save_sizes
from .sweeper import settle_interrupted_sessions, sweep_collections

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_DISPATCHES",
    "TASK_MARGIN_SECONDS",
    "AttemptLost",
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
    "settle_interrupted_sessions",
    "start_queued_collection",
    "sweep_collections",
    "table_time_limit",
    "tables_wanted",
    "task_time_limit",
]

ProgressCallback = Callable[[SyncInstanceRecord, int, int], None]


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
                    attempt = attempts.start_attempt(record)
                    if attempt is not None:
                        with guard:
                            active[record.pk] = (attempt, time.monotonic())
                            owned[record.pk] = attempt
                        attempts.perform(record, attempt)
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
            limit = budgets.limit_of(record.instance)
            if now - t0 <= limit:
                continue
            try:
                lifecycle.fail(record, ErrorKind.TIMEOUT, attempts.timeout_message(limit), attempt=attempt)
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
    sweeper.sweep_collections()
    records = list(
        session.records.filter(status=RecordStatus.PENDING).select_related("instance", "instance__credential")
    )
    with translation.override(settings.LANGUAGE_CODE):
        _run_records(session, records, concurrency=concurrency, progress=progress, beat_session=True)
    return attempts.finalize_session(session)


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
