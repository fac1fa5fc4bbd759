"""Settle the runs a stopped platform was in the middle of.

`scripts/run.sh` calls this (through `manage.py settle_runs`) once it has ended the web server
and the task cluster: a run those processes were collecting can no longer finish, so its
unfinished instances fail at once as interrupted attempts instead of staying "running" until
the next nightly run's sweep (`settle_interrupted_sessions`) finds them stale.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from instances.choices import ErrorKind
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SessionStatus
from sync_sessions.models import SyncSession

from .collect import finalize_session


def settle_stopped_runs(started_since: datetime | None = None) -> list[SyncSession]:
    """Fail the pending and running records of every running session started since `started_since`.

    `started_since` is when the stopped processes started (None: every running session). Each
    record fails with kind `timeout`, the session gets its final status, and the instance
    collection locks the session held are released so the next run does not skip them.
    Returns the sessions it settled.
    """
    sessions = SyncSession.objects.filter(status=SessionStatus.RUNNING)
    if started_since is not None:
        sessions = sessions.filter(started_at__gte=started_since)
    settled = []
    now = timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        message = _("Interrupted: the platform was stopped.")
    for session in sessions.order_by("started_at"):
        unfinished = session.records.filter(status__in=[RecordStatus.PENDING, RecordStatus.RUNNING])
        instance_ids = list(unfinished.exclude(instance=None).values_list("instance_id", flat=True))
        unfinished.update(status=RecordStatus.FAILED, error=message, error_kind=ErrorKind.TIMEOUT, completed_at=now)
        Instance.objects.filter(pk__in=instance_ids).update(
            last_sync_at=now,
            last_sync_status=RecordStatus.FAILED,
            last_sync_error=message,
            last_sync_error_kind=ErrorKind.TIMEOUT,
        )
        Instance.objects.filter(collection_lock=session.session_id).update(
            collection_lock=None, collection_locked_at=None
        )
        settled.append(finalize_session(session))
    return settled
