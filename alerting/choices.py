"""The one spelling of every enumerated value of alerting."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    """What an alert rule watches."""

    TOTAL_SIZE = "total_size", _("Instance total size")
    DATABASE_SIZE = "database_size", _("Database size")
    GROWTH_PERCENT = "growth_percent", _("Growth percent")
    DAYS_UNTIL_FULL = "days_until_full", _("Days until full")


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class AlertUnit(models.TextChoices):
    """What an alert's value and threshold count."""

    BYTES = "bytes", _("bytes")
    PERCENT = "percent", _("percent")
    DAYS = "days", _("days")


# The threshold field each kind compares against, and the unit of its value.
THRESHOLD_FIELD = {
    AlertKind.TOTAL_SIZE: "threshold_bytes",
    AlertKind.DATABASE_SIZE: "threshold_bytes",
    AlertKind.GROWTH_PERCENT: "threshold_percent",
    AlertKind.DAYS_UNTIL_FULL: "threshold_days",
}
KIND_UNIT = {
    AlertKind.TOTAL_SIZE: AlertUnit.BYTES,
    AlertKind.DATABASE_SIZE: AlertUnit.BYTES,
    AlertKind.GROWTH_PERCENT: AlertUnit.PERCENT,
    AlertKind.DAYS_UNTIL_FULL: AlertUnit.DAYS,
}
