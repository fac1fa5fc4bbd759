"""The sweeper: settles work whose worker stopped and puts tasks lost with a killed cluster back.

Runs every minute on the cluster's schedule (`capacity.tasks.sweep_collections`) and at the
start of every in-process run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Max
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from instances.choices import ErrorKind
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus, SessionStatus
from sync_sessions.models import SyncInstanceRecord, SyncSession
from sync_sessions.services import finalize_if_done

from . import attempts, fanout

logger = logging.getLogger(__name__)


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
    again, up to fanout.MAX_DISPATCHES times, after which they fail. A duplicate is harmless: a task
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
            retry = [r for r in pending if r.dispatch_count < fanout.MAX_DISPATCHES]
            requeued += fanout._dispatch(retry)
            message = lifecycle.platform_text(
                lambda: _("Queued %(n)d times and never picked up by a worker.") % {"n": fanout.MAX_DISPATCHES}
            )
            for record in pending:
                if record.dispatch_count >= fanout.MAX_DISPATCHES:
                    rows = SyncInstanceRecord.objects.filter(pk=record.pk, status=RecordStatus.PENDING)
                    given_up += lifecycle.fail_where(rows, record, ErrorKind.TIMEOUT, message)
            closed = finalize_if_done(session_id)
            if closed is not None:
                outcome.finalized.append(closed)
    for session in outcome.finalized:
        attempts._announce(session)
    return {
        "failed_records": outcome.failed_records + given_up,
        "requeued_records": requeued,
        "finalized_sessions": len(outcome.finalized),
    }


# Older name, kept for callers from before the sweeper.
settle_interrupted_sessions = sweep_collections
