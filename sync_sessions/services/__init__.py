"""The life of a sync session and of its instance records, whoever collects them.

A record goes pending → running → completed | failed | skipped, and every move is one
conditional UPDATE, so two parties (a worker and the watchdog, two deliveries of one task, a
worker and the sweeper) can never both move it: the loser's UPDATE matches no row.

- `claim` makes an attempt the record's owner (a fresh UUID in `attempt`); only the owner may
  complete it (`owns` is checked inside the save's transaction).
- A running attempt beats (`beat`) every `heartbeat_seconds()`; `sweep` fails records whose
  beat is older than `stale_after()` (their worker stopped) and closes in-process sessions whose
  process stopped beating.
- A session is finalised by `finalize_if_done` once no record is pending or running, exactly
  once (a conditional UPDATE of the session's status), by whoever settles its last record.

Nothing here knows how sizes are collected: capacity drives it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from instances.choices import ErrorKind
from instances.models import Instance

from ..choices import RecordStatus, SessionStatus, SyncType
from ..models import SyncInstanceRecord, SyncSession

OPEN = (RecordStatus.PENDING, RecordStatus.RUNNING)


def heartbeat_seconds() -> float:
    """How often a running attempt shows it is alive."""
    return float(getattr(settings, "CAPACITY_HEARTBEAT_SECONDS", 5))


def stale_after() -> float:
    """A beat older than this means the attempt's worker stopped (six missed beats)."""
    return heartbeat_seconds() * 6


def platform_text(message_factory):
    """Records are read by the whole team: their text is in the platform's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return message_factory()


# --- sessions ----------------------------------------------------------------------------------


def active_instances():
    return Instance.objects.filter(is_active=True).order_by("name")


def create_session(
    instances: Iterable[Instance] | None = None,
    *,
    sync_type: str = SyncType.MANUAL,
    created_by=None,
    queued: bool = False,
) -> SyncSession:
    """Open a session with one pending record per instance (all active instances by default)."""
    instances = list(active_instances() if instances is None else instances)
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    now = timezone.now()
    with transaction.atomic():
        session = SyncSession.objects.create(
            sync_type=sync_type,
            status=SessionStatus.RUNNING,
            total_instances=len(instances),
            created_by=user,
            queued=queued,
            heartbeat_at=now,
        )
        SyncInstanceRecord.objects.bulk_create(
            [SyncInstanceRecord(session=session, instance=i, instance_name=i.name) for i in instances]
        )
    return session


def session_status(completed: int, total: int) -> str:
    """`completed` only when every record was collected; nothing collected is `failed`."""
    if completed == total:
        return SessionStatus.COMPLETED
    if completed == 0:
        return SessionStatus.FAILED
    return SessionStatus.PARTIAL


def finalize_if_done(session_id: int) -> SyncSession | None:
    """Close the session when none of its records is open; returns it only to the caller that closed it.

    Every party that settles a record calls this afterwards; the last one to commit sees no open
    record, and the conditional UPDATE lets exactly one caller close the session.
    """
    records = SyncInstanceRecord.objects.filter(session_id=session_id)
    if records.filter(status__in=OPEN).exists():
        return None
    done = Q(status=RecordStatus.COMPLETED)
    figures = records.aggregate(
        total=Count("id"),
        completed=Count("id", filter=done),
        failed=Count("id", filter=Q(status=RecordStatus.FAILED)),
        skipped=Count("id", filter=Q(status=RecordStatus.SKIPPED)),
        databases=Sum("databases_count", filter=done),
        size=Sum("total_size_bytes", filter=done),
    )
    closed = SyncSession.objects.filter(pk=session_id, status=SessionStatus.RUNNING).update(
        status=session_status(figures["completed"], figures["total"]),
        total_instances=figures["total"],
        successful_instances=figures["completed"],
        failed_instances=figures["failed"],
        skipped_instances=figures["skipped"],
        total_databases=figures["databases"] or 0,
        total_size_bytes=figures["size"] or 0,
        completed_at=timezone.now(),
    )
    return SyncSession.objects.get(pk=session_id) if closed else None


def cancel_session(session: SyncSession, by=None) -> int:
    """Stop a running session: its pending records are skipped; running ones finish or are given up.

    Returns how many records were skipped. A session already over is left as it is.
    """
    user = by if getattr(by, "is_authenticated", False) else None
    now = timezone.now()
    if not SyncSession.objects.filter(pk=session.pk, status=SessionStatus.RUNNING).update(
        cancelled_at=now, cancelled_by=user
    ):
        return 0
    who = user.get_username() if user else ""
    message = platform_text(
        lambda: (
            (_("Cancelled by %(user)s before it started.") % {"user": who})
            if who
            else _("Cancelled before it started.")
        )
    )
    skipped = SyncInstanceRecord.objects.filter(session=session, status=RecordStatus.PENDING).update(
        status=RecordStatus.SKIPPED, error=message, error_kind="", completed_at=now
    )
    finalize_if_done(session.pk)
    return skipped


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One try at one record: only the holder of `token` may write its outcome."""

    record_id: int
    instance_id: int | None
    token: uuid.UUID = field(default_factory=uuid.uuid4)


def claim(record: SyncInstanceRecord) -> Attempt | None:
    """Make a new attempt the owner of a pending record; None when it is no longer pending
    (settled, cancelled, or owned by another delivery of the same task)."""
    attempt = Attempt(record.pk, record.instance_id)
    now = timezone.now()
    taken = SyncInstanceRecord.objects.filter(pk=record.pk, status=RecordStatus.PENDING).update(
        status=RecordStatus.RUNNING, attempt=attempt.token, started_at=now, heartbeat_at=now
    )
    return attempt if taken else None


def owns(attempt: Attempt) -> bool:
    """True while the attempt still owns its record and its instance's lock.

    Meant to run first inside the transaction that writes the attempt's outcome: both UPDATEs
    lock their rows until that transaction ends, so whoever gives up on the attempt (watchdog,
    sweeper, a run taking over the lock) waits for it and then finds nothing left to settle.
    """
    now = timezone.now()
    if not SyncInstanceRecord.objects.filter(
        pk=attempt.record_id, status=RecordStatus.RUNNING, attempt=attempt.token
    ).update(heartbeat_at=now):
        return False
    if attempt.instance_id is None:
        return True
    return bool(
        Instance.objects.filter(pk=attempt.instance_id, collection_lock=attempt.token).update(collection_locked_at=now)
    )


def beat(attempts: Iterable[Attempt], session_id: int | None = None) -> None:
    """Show that these attempts (and the in-process session driving them) are alive."""
    attempts = list(attempts)
    now = timezone.now()
    if attempts:
        SyncInstanceRecord.objects.filter(pk__in=[a.record_id for a in attempts], status=RecordStatus.RUNNING).update(
            heartbeat_at=now
        )
        Instance.objects.filter(collection_lock__in=[a.token for a in attempts]).update(collection_locked_at=now)
    if session_id is not None:
        SyncSession.objects.filter(pk=session_id, status=SessionStatus.RUNNING).update(heartbeat_at=now)


def settle(
    record_id: int,
    status: str,
    *,
    attempt: Attempt | None = None,
    only_if: Iterable[str] = OPEN,
    **fields,
) -> bool:
    """Write a record's outcome unless someone already settled it (or, with `attempt`, took it over)."""
    fields.setdefault("completed_at", timezone.now())
    rows = SyncInstanceRecord.objects.filter(pk=record_id, status__in=list(only_if))
    if attempt is not None:
        rows = rows.filter(attempt=attempt.token)
    return bool(rows.update(status=status, **fields))


def fail(record: SyncInstanceRecord, kind: str, message: str, *, attempt: Attempt | None = None) -> bool:
    """Fail a record (and note it on its instance) unless it is already settled."""
    rows = SyncInstanceRecord.objects.filter(pk=record.pk, status__in=OPEN)
    if attempt is not None:
        rows = rows.filter(attempt=attempt.token)
    return fail_where(rows, record, kind, message)


def fail_where(rows, record: SyncInstanceRecord, kind: str, message: str) -> bool:
    """Fail the record through `rows` (a queryset narrowing it down) and note it on its instance."""
    if not rows.update(status=RecordStatus.FAILED, error=message, error_kind=kind, completed_at=timezone.now()):
        return False
    if record.instance_id:
        Instance.objects.filter(pk=record.instance_id).update(
            last_sync_at=timezone.now(),
            last_sync_status=RecordStatus.FAILED,
            last_sync_error=message,
            last_sync_error_kind=kind,
        )
    return True


def skip(record: SyncInstanceRecord, message: str, *, attempt: Attempt | None = None) -> bool:
    return settle(record.pk, RecordStatus.SKIPPED, attempt=attempt, error=message, error_kind="")


# --- the sweeper -------------------------------------------------------------------------------


@dataclass
class SweepOutcome:
    failed_records: int = 0
    finalized: list[SyncSession] = field(default_factory=list)


def _worker_stopped() -> str:
    return _("The worker collecting this instance stopped (no heartbeat for %(s)d seconds).") % {
        "s": int(stale_after())
    }


def _run_stopped() -> str:
    return _("The run stopped (no heartbeat for %(s)d seconds) before this instance was collected.") % {
        "s": int(stale_after())
    }


def sweep(now=None) -> SweepOutcome:
    """Settle what lost its worker, and close the sessions that have nothing open any more.

    - a running record whose heartbeat is older than `stale_after()`: failed (`timeout`, "the
      worker stopped"), its instance lock released;
    - an in-process session whose own heartbeat is that old: its open records likewise;
    - then every running session with no open record is finalised.
    Pending records of queued sessions are capacity's business (their task may still be on
    the broker); see capacity.services.sweeper.sweep_collections.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=stale_after())
    outcome = SweepOutcome()
    lost = list(
        SyncInstanceRecord.objects.filter(status=RecordStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .only("pk", "instance_id", "attempt", "session_id")
    )
    message = platform_text(_worker_stopped)
    for record in lost:
        # Re-checked in the UPDATE: an attempt that beat since the read above is alive after all.
        still_lost = SyncInstanceRecord.objects.filter(
            pk=record.pk, status=RecordStatus.RUNNING, attempt=record.attempt
        ).filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
        if fail_where(still_lost, record, ErrorKind.TIMEOUT, message):
            outcome.failed_records += 1
            if record.attempt and record.instance_id:
                release_instance_lock(record.instance_id, record.attempt)

    dead_runs = SyncSession.objects.filter(status=SessionStatus.RUNNING, queued=False).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    message = platform_text(_run_stopped)
    for record in SyncInstanceRecord.objects.filter(session__in=dead_runs, status__in=OPEN).only(
        "pk", "instance_id", "attempt"
    ):
        if fail(record, ErrorKind.TIMEOUT, message):
            outcome.failed_records += 1
        if record.attempt and record.instance_id:
            release_instance_lock(record.instance_id, record.attempt)

    for session_id in SyncSession.objects.filter(status=SessionStatus.RUNNING).values_list("pk", flat=True):
        closed = finalize_if_done(session_id)
        if closed is not None:
            outcome.finalized.append(closed)
    return outcome


# --- the per-instance lock ---------------------------------------------------------------------


def acquire_instance_lock(instance_id: int, token: uuid.UUID) -> bool:
    """Take the instance's collection lock with one conditional UPDATE (works on every backend).

    The holder refreshes `collection_locked_at` with every heartbeat, so a lock not refreshed
    within `stale_after()` belongs to a worker that stopped and is taken over.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=stale_after())
    return bool(
        Instance.objects.filter(pk=instance_id)
        .filter(Q(collection_lock__isnull=True) | Q(collection_locked_at__lt=stale) | Q(collection_lock=token))
        .update(collection_lock=token, collection_locked_at=now)
    )


def release_instance_lock(instance_id: int, token: uuid.UUID) -> None:
    Instance.objects.filter(pk=instance_id, collection_lock=token).update(
        collection_lock=None, collection_locked_at=None
    )
