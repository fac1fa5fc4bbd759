"""The numbers: daily database and instance sizes, in bytes, and the database inventory."""

from django.db import models
from django.utils.translation import gettext_lazy as _

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
