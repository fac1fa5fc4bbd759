"""The one spelling of every enumerated value of capacity."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodType(models.TextChoices):
    WEEK = "week", _("Week (ISO)")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class MaintenanceJob(models.TextChoices):
    AGGREGATION = "aggregation", _("Aggregation")
    RETENTION = "retention", _("Retention clean-up")
