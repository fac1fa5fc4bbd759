"""What exists on each instance now: one row per database ever seen, with its last size."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
    last_allocated_size_bytes = models.BigIntegerField(_("last allocated size (bytes)"), null=True, blank=True)
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
