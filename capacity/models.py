"""The numbers: daily database and instance sizes, in bytes, and the database inventory."""

from decimal import Decimal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from instances.choices import DbType

from .choices import KIND_UNIT, THRESHOLD_FIELD, AlertKind, AlertStatus

MIB = 1024 * 1024


def to_mib(value: int | None) -> float | None:
    """Bytes to MiB with two decimals; derived, never stored."""
    return None if value is None else round(value / MIB, 2)


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
            # How fresh an instance's aggregates are (refresh_instance): one probe, not a read of all its periods.
            models.Index(fields=["instance", "computed_at"], name="dbagg_instance_computed"),
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
        indexes = [
            models.Index(fields=["is_complete", "period_end"], name="instagg_open_periods"),
            models.Index(fields=["instance", "computed_at"], name="instagg_instance_computed"),
        ]

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


# --- alerting ----------------------------------------------------------------------------------

_WEBHOOK_URL = URLValidator(schemes=["http", "https"], message=_("Enter an http:// or https:// URL."))


def validate_webhook_url(value: str) -> None:
    """Webhooks are plain HTTP(S) POSTs: ftp://, file:// and the like are refused."""
    if value:
        _WEBHOOK_URL(value)


class AlertRule(models.Model):
    """A threshold on the collected sizes, evaluated after every collection."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    instance = models.ForeignKey(
        "instances.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text=_("Empty: every active instance."),
    )
    db_type = models.CharField(
        _("database type"),
        max_length=20,
        choices=DbType.choices,
        blank=True,
        default="",
        help_text=_("Only instances of this database type; empty: any type."),
    )
    threshold_bytes = models.BigIntegerField(
        _("threshold (bytes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Total size and database size rules: fire at or above this many bytes."),
    )
    threshold_percent = models.DecimalField(
        _("threshold (%)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Growth percent rules: fire when the instance total grew at least this much over the window."),
    )
    threshold_days = models.PositiveIntegerField(
        _("threshold (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(36500)],
        help_text=_("Days until full rules: fire when the forecast reaches the capacity limit within this many days."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "Growth percent: the days the growth is measured over. Days until full: the days of history "
            "the trend is fitted to (at least 7)."
        ),
    )
    webhook_url = models.URLField(
        _("webhook URL"),
        max_length=500,
        blank=True,
        default="",
        validators=[validate_webhook_url],
        help_text=_("Receives every alert of this rule as JSON when it fires and when it resolves (http or https)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def threshold_field(self) -> str | None:
        return THRESHOLD_FIELD.get(self.kind)

    @property
    def threshold(self):
        """The threshold this rule's kind compares against (bytes, percent or days)."""
        field = self.threshold_field
        return getattr(self, field) if field else None

    @property
    def unit(self) -> str | None:
        return KIND_UNIT.get(self.kind)

    @property
    def redacted_webhook_url(self) -> str:
        """Scheme and host only: webhook paths often carry the receiver's secret token."""
        if not self.webhook_url:
            return ""
        parts = urlsplit(self.webhook_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}/…"

    def clean(self):
        super().clean()
        wanted = self.threshold_field
        # One threshold counts per kind; keeping the others would only mislead whoever reads the rule.
        for field in set(THRESHOLD_FIELD.values()) - {wanted}:
            setattr(self, field, None)
        errors = {}
        if wanted and getattr(self, wanted) is None:
            errors[wanted] = _("%(field)s is required for a “%(kind)s” rule.") % {
                "field": wanted,
                "kind": self.get_kind_display(),
            }
        instance = self.instance if self.instance_id else None
        if self.kind == AlertKind.DAYS_UNTIL_FULL:
            from .services.forecast import MIN_DAYS

            if self.window_days is not None and self.window_days < MIN_DAYS:
                errors["window_days"] = _(
                    "window_days must be at least %(n)d for a “days until full” rule: the trend needs that much "
                    "history."
                ) % {"n": MIN_DAYS}
            if instance is not None and instance.capacity_limit_bytes is None:
                errors["instance"] = _(
                    "Instance %(name)s has no capacity limit, which a “days until full” rule needs."
                ) % {"name": instance.name}
        if instance is not None and self.db_type and instance.db_type != self.db_type:
            errors["db_type"] = _("Instance %(name)s is of database type %(actual)s, not %(wanted)s.") % {
                "name": instance.name,
                "actual": instance.db_type,
                "wanted": self.db_type,
            }
        if errors:
            raise ValidationError(errors)


class Alert(models.Model):
    """One breach of a rule on one instance (or one of its databases), from first firing to resolution.

    At most one alert per (rule, instance, database) is firing at a time: re-evaluation updates it,
    and a breach after it resolved opens a new one.
    """

    rule = models.ForeignKey(AlertRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="alerts")
    instance = models.ForeignKey(
        "instances.Instance", verbose_name=_("instance"), on_delete=models.CASCADE, related_name="alerts"
    )
    database_name = models.CharField(
        _("database"), max_length=255, blank=True, default="", help_text=_("Empty for instance-wide rules.")
    )
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.FIRING)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=2)
    threshold = models.DecimalField(_("threshold"), max_digits=24, decimal_places=2)
    message = models.TextField(_("message"))
    first_fired_at = models.DateTimeField(_("first fired at"))
    last_evaluated_at = models.DateTimeField(_("last evaluated at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    webhook_status = models.PositiveSmallIntegerField(
        _("webhook HTTP status"), null=True, blank=True, help_text=_("The answer to the latest delivery attempt.")
    )
    webhook_error = models.TextField(_("webhook error"), blank=True, default="")
    webhook_delivered_at = models.DateTimeField(_("webhook delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-first_fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "instance", "database_name"],
                condition=models.Q(status=AlertStatus.FIRING),
                name="alert_one_firing_per_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "instance"], name="alert_status_instance")]

    def __str__(self):
        where = f"{self.instance_id}/{self.database_name}" if self.database_name else f"{self.instance_id}"
        return f"{self.rule_id} @ {where} ({self.status})"

    @property
    def unit(self) -> str | None:
        return KIND_UNIT.get(self.rule.kind)
