"""Alert rules (thresholds on the collected sizes) and the alerts they raise."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from capacity.services.forecast import MIN_DAYS
from common import net
from common.validators import validate_webhook_url
from instances.choices import DbType

from .choices import KIND_UNIT, THRESHOLD_FIELD, AlertKind, AlertStatus


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
    include_system_databases = models.BooleanField(
        _("include system databases"),
        default=False,
        help_text=_(
            "Database size rules: also watch the engines' own databases (information_schema, mysql, master, "
            "postgres, SYSTEM, …). Off: only the users' databases."
        ),
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
        try:
            web = net.parse_url(self.webhook_url)
        except net.UnsafeURL:
            return "…"  # a stored value no longer valid: webhook_problem says why
        return f"{web.scheme}://{web.host_header}/…"

    @property
    def webhook_problem(self) -> str:
        """Why the stored webhook URL would not be sent to, seen without a DNS lookup; "" when fine or none."""
        return net.url_problem(self.webhook_url) if self.webhook_url else ""

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
