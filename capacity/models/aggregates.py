"""Weekly, monthly and quarterly aggregates derived from the daily sizes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from common.formatting import to_mib

from ..choices import PeriodType


class SizeAggregateBase(models.Model):
    """What the daily rows of one period say: spread, first and last size, growth."""

    period_type = models.CharField(_("period"), max_length=10, choices=PeriodType.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    avg_size_bytes = models.BigIntegerField(_("average size (bytes)"))
    max_size_bytes = models.BigIntegerField(_("largest size (bytes)"))
    min_size_bytes = models.BigIntegerField(_("smallest size (bytes)"))
    first_size_bytes = models.BigIntegerField(_("first size (bytes)"))
    last_size_bytes = models.BigIntegerField(_("last size (bytes)"))
    first_date = models.DateField(_("first sample"))
    last_date = models.DateField(_("last sample"))
    growth_bytes = models.BigIntegerField(_("growth (bytes)"))
    growth_rate = models.FloatField(
        _("growth (%)"), null=True, blank=True, help_text=_("Empty when the period started at zero bytes.")
    )
    sample_count = models.PositiveIntegerField(_("samples"))
    is_complete = models.BooleanField(
        _("complete"), default=False, help_text=_("False while the period is still running.")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        abstract = True

    @property
    def is_current(self) -> bool:
        return not self.is_complete

    @property
    def avg_size_mb(self):
        return to_mib(self.avg_size_bytes)

    @property
    def max_size_mb(self):
        return to_mib(self.max_size_bytes)

    @property
    def min_size_mb(self):
        return to_mib(self.min_size_bytes)

    @property
    def growth_mb(self):
        return to_mib(self.growth_bytes)


class DatabaseSizeAggregate(SizeAggregateBase):
    """One database over one week, month or quarter, derived from DatabaseSizeStat."""

    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        related_name="database_size_aggregates",
        db_index=False,  # the unique (instance, database, period) index starts with it
    )
    database_name = models.CharField(_("database"), max_length=255)

    class Meta:
        verbose_name = _("database size aggregate")
        verbose_name_plural = _("database size aggregates")
        ordering = ["instance", "period_type", "period_start", "database_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "database_name", "period_type", "period_start"], name="dbagg_unique_period"
            ),
        ]
        indexes = [
            models.Index(fields=["instance", "period_type", "period_start"], name="dbagg_instance_period"),
            models.Index(fields=["is_complete", "period_end"], name="dbagg_open_periods"),
        ]

    def __str__(self):
        return f"{self.instance_id}/{self.database_name} {self.period_type} {self.period_start}"


class InstanceSizeAggregate(SizeAggregateBase):
    """An instance's total over one week, month or quarter, derived from InstanceSizeStat."""

    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        related_name="size_aggregates",
        db_index=False,  # the unique (instance, period) index starts with it
    )
    last_database_count = models.PositiveIntegerField(_("databases at the end"))

    class Meta:
        verbose_name = _("instance size aggregate")
        verbose_name_plural = _("instance size aggregates")
        ordering = ["instance", "period_type", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "period_type", "period_start"], name="instagg_unique_period"),
        ]
        indexes = [
            models.Index(fields=["is_complete", "period_end"], name="instagg_open_periods"),
            # How fresh an instance's aggregates are (refresh_instance): one probe, not a read of all its
            # periods. Both tables are rewritten together, so this one answers for the database aggregates.
            models.Index(fields=["instance", "computed_at"], name="instagg_instance_computed"),
        ]

    def __str__(self):
        return f"{self.instance_id} {self.period_type} {self.period_start}"
