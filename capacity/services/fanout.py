"""Collection fanned out on the task cluster: one django-q2 task per instance of a session.

`start_queued_collection` opens a session and puts each record on the broker as its own task
(`capacity.tasks.collect_queued_record`), so every qcluster on every machine works on the same
session; whoever settles the last record closes it. Used by the nightly schedule,
POST /api/capacity/collect/ and the admin's bulk action.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings
from django.db.models import F
from django.utils import timezone, translation

from instances.models import Instance
from sync_sessions.choices import RecordStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession
from sync_sessions.services import create_session

from . import attempts, budgets

# A pending record of a queued session is put on the broker again at most this often before
# the sweeper gives up on it (the Redis broker loses a killed cluster's prefetched tasks).
MAX_DISPATCHES = 3


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
            timeout=budgets.task_limit_of(record.instance),
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
        return attempts.finalize_session(session)
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
        given_up = attempts.collect_in_this_worker(record)
    attempts.close_if_done(session.pk)
    if given_up and not settings.Q_CLUSTER.get("sync"):
        # The driver is stuck past every timeout. Rather than leave its thread behind in a
        # reused worker process, wait for django-q2's per-task timeout to end this process.
        budget = budgets.task_limit_of(record.instance)
        time.sleep(max(0.0, budget + 5 - (time.monotonic() - started)))
    return SyncInstanceRecord.objects.values_list("status", flat=True).get(pk=record_id)
