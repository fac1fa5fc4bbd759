"""The record of every collection run, whatever started it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from instances.choices import ErrorKind

from .choices import RecordStatus, SessionStatus, SyncCategory, SyncType


class SyncSession(models.Model):
    session_id = models.UUIDField(_("session id"), default=uuid.uuid4, unique=True, editable=False)
    sync_type = models.CharField(_("sync type"), max_length=20, choices=SyncType.choices, db_index=True)
    category = models.CharField(
        _("category"), max_length=20, choices=SyncCategory.choices, default=SyncCategory.CAPACITY
    )
    status = models.CharField(
        _("status"), max_length=20, choices=SessionStatus.choices, default=SessionStatus.RUNNING, db_index=True
    )
    total_instances = models.PositiveIntegerField(pgettext_lazy("count", "instances"), default=0)
    successful_instances = models.PositiveIntegerField(pgettext_lazy("count", "succeeded"), default=0)
    failed_instances = models.PositiveIntegerField(pgettext_lazy("count", "failed"), default=0)
    skipped_instances = models.PositiveIntegerField(pgettext_lazy("count", "skipped"), default=0)
    total_databases = models.PositiveIntegerField(_("databases"), default=0)
    total_size_bytes = models.BigIntegerField(_("total size (bytes)"), default=0)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # True when the records were put on the task broker one by one (every qcluster works on
    # them); False when one process collects them in its own threads.
    queued = models.BooleanField(_("queued on the task cluster"), default=False)
    # Beaten by the process that collects an in-process session, so a dead one is noticed.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("sync session")
        verbose_name_plural = _("sync sessions")

    def __str__(self):
        return f"{self.get_sync_type_display()} {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.completed_at:
            return None
        return round((self.completed_at - self.started_at).total_seconds(), 3)


class SyncInstanceRecord(models.Model):
    session = models.ForeignKey(
        SyncSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="records"
    )
    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instance"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="sync_records",
    )
    # Kept so the record still reads well after the instance is deleted.
    instance_name = models.CharField(_("instance name"), max_length=128)
    status = models.CharField(
        _("status"), max_length=20, choices=RecordStatus.choices, default=RecordStatus.PENDING, db_index=True
    )
    databases_count = models.PositiveIntegerField(_("databases"), default=0)
    saved_count = models.PositiveIntegerField(pgettext_lazy("count", "saved"), default=0)
    deleted_count = models.PositiveIntegerField(pgettext_lazy("count", "vanished"), default=0)
    total_size_bytes = models.BigIntegerField(_("total size (bytes)"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    error_kind = models.CharField(
        _("error kind"), max_length=20, blank=True, default="", choices=ErrorKind.choices, db_index=True
    )
    warnings = models.JSONField(_("notes"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # The attempt that owns the record while it runs: only that attempt may settle or save it.
    attempt = models.UUIDField(_("attempt"), null=True, blank=True, editable=False)
    # Beaten every few seconds while the attempt runs; a stale beat means its worker stopped.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # When the record was last put on the task broker, and how many times.
    dispatched_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    dispatch_count = models.PositiveSmallIntegerField(_("times queued"), default=0)

    class Meta:
        ordering = ["session", "instance_name"]
        verbose_name = _("instance record")
        verbose_name_plural = _("instance records")
        indexes = [models.Index(fields=["instance", "-completed_at"], name="syncrec_instance_recent")]

    def __str__(self):
        return _("%(instance)s: %(status)s") % {"instance": self.instance_name, "status": self.get_status_display()}

    @property
    def duration_seconds(self) -> float | None:
        if not (self.started_at and self.completed_at):
            return None
        return round((self.completed_at - self.started_at).total_seconds(), 3)
