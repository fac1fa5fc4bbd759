"""Collect one instance now and report it: the one answer behind the admin's row button and
`POST /api/instances/{id}/sync-capacity/` (each screen only turns it into its own response)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.formatting import human_bytes
from instances import binding
from instances.choices import ErrorKind
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession

from .collect import collect


@dataclass(frozen=True)
class SyncOutcome:
    """What came of "collect this instance now".

    `status`: one of the constants below; the refusals (inactive, no credential, denied) open no
    session. `kind` is the failure's ErrorKind ("" when collected or refused for being inactive),
    `message` the bare reason of a failure, `summary` one line for a person naming the instance,
    `session`/`record` the run and its one record when there was one.
    """

    COMPLETED = "completed"
    SKIPPED = "skipped"  # another run holds the instance
    FAILED = "failed"
    INACTIVE = "inactive"
    NO_CREDENTIAL = "no_credential"
    DENIED = "denied"

    status: str
    summary: str
    kind: str = ""
    message: str = ""
    session: SyncSession | None = None
    record: SyncInstanceRecord | None = None

    @property
    def success(self) -> bool:
        return self.status == self.COMPLETED


def _refused(status: str, kind: str, message: str) -> SyncOutcome:
    return SyncOutcome(status=status, kind=kind, message=message, summary=message)


def sync_instance(instance: Instance, user=None) -> SyncOutcome:
    """Collect one instance in this request through the one collection path, as `user`.

    Refused without a session when the instance is inactive, has no credential, or its
    credential is not approved for its target; otherwise one manual session of one record.
    """
    if not instance.is_active:
        message = _("Instance %(name)s is inactive; activate it to collect its capacity.") % {"name": instance.name}
        return _refused(SyncOutcome.INACTIVE, "", message)
    if instance.credential_id is None:
        message = _("Instance %(name)s has no credential to connect with.") % {"name": instance.name}
        return _refused(SyncOutcome.NO_CREDENTIAL, ErrorKind.AUTH.value, message)
    denial = binding.approval_denial(instance)
    if denial:
        return _refused(SyncOutcome.DENIED, ErrorKind.PERMISSION.value, denial)

    session = collect([instance], sync_type=SyncType.MANUAL, created_by=user)
    record = session.records.get()
    if record.status == RecordStatus.COMPLETED:
        summary = ngettext(
            "%(name)s: %(count)s database, %(size)s collected.",
            "%(name)s: %(count)s databases, %(size)s collected.",
            record.databases_count,
        ) % {"name": instance.name, "count": record.databases_count, "size": human_bytes(record.total_size_bytes)}
        return SyncOutcome(status=SyncOutcome.COMPLETED, summary=summary, session=session, record=record)
    message = record.error or _("The collection did not complete.")
    if record.status == RecordStatus.SKIPPED:
        status, summary = SyncOutcome.SKIPPED, f"{instance.name}: {message}"
    else:
        status = SyncOutcome.FAILED
        summary = _("%(name)s: collection failed [%(kind)s]: %(error)s") % {
            "name": instance.name,
            "kind": record.get_error_kind_display() or "—",
            "error": message,
        }
    return SyncOutcome(
        status=status, summary=summary, kind=record.error_kind, message=message, session=session, record=record
    )
