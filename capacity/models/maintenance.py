"""The latest run of each maintenance job (aggregation, retention)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import MaintenanceJob


class MaintenanceRun(models.Model):
    """The latest run of each maintenance job: when, how it went, and what it did."""

    job = models.CharField(_("job"), max_length=20, choices=MaintenanceJob.choices, unique=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    success = models.BooleanField(_("succeeded"), null=True, blank=True)
    # Aggregation: daily rows collected before this instant are already in the aggregates.
    watermark = models.DateTimeField(_("processed up to"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        verbose_name = _("maintenance run")
        verbose_name_plural = _("maintenance runs")
        ordering = ["job"]

    def __str__(self):
        return f"{self.get_job_display()} @ {self.started_at:%Y-%m-%d %H:%M}"
