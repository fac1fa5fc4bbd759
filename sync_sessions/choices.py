from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncType(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Manual")


class SyncCategory(models.TextChoices):
    CAPACITY = "capacity", _("Capacity")


class SessionStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    PARTIAL = "partial", _("Partial")


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
