"""The numbers: daily database and instance sizes, in bytes, and the database inventory."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from common.formatting import MIB, to_mib  # noqa: F401  (re-exported: callers read sizes in MiB here)


class DatabaseSizeStat(models.Model):
    """One database's size on one day (the day in TIME_ZONE), kept as exact bytes."""

    instance = models.ForeignKey(
        "instances.Instance", verbose_name=_("instance"), on_delete=models.CASCADE, related_name="database_sizes"
    )
    database_name = models.CharField(_("database"), max_length=255)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    data_size_bytes = models.BigIntegerField(_("data size (bytes)"))
    index_size_bytes = models.BigIntegerField(_("index size (bytes)"), null=True, blank=True)
    log_size_bytes = models.BigIntegerField(_("log size (bytes)"), null=True, blank=True)
    collected_date = models.DateField(_("collected date"))
    collected_at = models.DateTimeField(_("collected at"))
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("database size")
        verbose_name_plural = _("database sizes")
        ordering = ["-collected_date", "database_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "database_name", "collected_date"], name="dbsize_unique_per_day"
            ),
        ]
        indexes = [
            # History of one instance, newest first.
            models.Index(fields=["instance", "-collected_date"], name="dbsize_instance_date"),
            # Fleet-wide views and retention by date.
            models.Index(fields=["collected_date"], name="dbsize_date"),
        ]

    def __str__(self):
        return f"{self.instance_id}/{self.database_name} @ {self.collected_date}"

    @property
    def size_mb(self):
        return to_mib(self.size_bytes)


class InstanceSizeStat(models.Model):
    """An instance's total on one day, written in the same transaction as its databases."""

    instance = models.ForeignKey(
        "instances.Instance", verbose_name=_("instance"), on_delete=models.CASCADE, related_name="size_stats"
    )
    total_size_bytes = models.BigIntegerField(_("total size (bytes)"))
    database_count = models.PositiveIntegerField(_("databases"))
    collected_date = models.DateField(_("collected date"))
    collected_at = models.DateTimeField(_("collected at"))
    is_deleted = models.BooleanField(_("deleted"), default=False)

    class Meta:
        verbose_name = _("instance size")
        verbose_name_plural = _("instance sizes")
        ordering = ["-collected_date", "instance"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "collected_date"], name="instsize_unique_per_day"),
        ]
        indexes = [models.Index(fields=["collected_date"], name="instsize_date")]

    def __str__(self):
        return f"{self.instance_id} @ {self.collected_date}"

    @property
    def total_size_mb(self):
        return to_mib(self.total_size_bytes)


class DatabaseInventory(models.Model):
    """What exists on each instance now: one row per database ever seen, with its last size.

    "Which databases exist", "which vanished and when" and "which came back" are one lookup
    here instead of a scan of the history.
    """

    instance = models.ForeignKey(
        "instances.Instance", verbose_name=_("instance"), on_delete=models.CASCADE, related_name="inventory"
    )
    database_name = models.CharField(_("database"), max_length=255)
    is_system = models.BooleanField(_("system database"), default=False)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    last_size_bytes = models.BigIntegerField(_("last size (bytes)"), default=0)
    last_data_size_bytes = models.BigIntegerField(_("last data size (bytes)"), default=0)
    last_index_size_bytes = models.BigIntegerField(_("last index size (bytes)"), null=True, blank=True)
    last_log_size_bytes = models.BigIntegerField(_("last log size (bytes)"), null=True, blank=True)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("database inventory")
        verbose_name_plural = _("database inventory")
        ordering = ["instance", "database_name"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "database_name"], name="inventory_unique_database"),
        ]

    def __str__(self):
        return f"{self.instance_id}/{self.database_name}"


# --- period aggregates and maintenance bookkeeping ------------------------------------------


class PeriodType(models.TextChoices):
    WEEK = "week", _("Week (ISO)")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


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
    )
    last_database_count = models.PositiveIntegerField(_("databases at the end"))

    class Meta:
        verbose_name = _("instance size aggregate")
        verbose_name_plural = _("instance size aggregates")
        ordering = ["instance", "period_type", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "period_type", "period_start"], name="instagg_unique_period"),
        ]
        indexes = [models.Index(fields=["is_complete", "period_end"], name="instagg_open_periods")]

    def __str__(self):
        return f"{self.instance_id} {self.period_type} {self.period_start}"


class MaintenanceJob(models.TextChoices):
    AGGREGATION = "aggregation", _("Aggregation")
    RETENTION = "retention", _("Retention clean-up")


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
