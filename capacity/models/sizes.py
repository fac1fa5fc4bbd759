"""The daily numbers: each database's and each instance's size on one day, in bytes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from common.formatting import to_mib


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
    allocated_size_bytes = models.BigIntegerField(
        _("allocated size (bytes)"),
        null=True,
        blank=True,
        help_text=_("What the database's files hold on disk, where the engine tells it."),
    )
    collected_date = models.DateField(_("collected date"))
    collected_at = models.DateTimeField(_("collected at"))
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # The database exists but could not be read on this day (offline, no access, not in the
    # login's view): the row repeats its last known size, so totals and growth see no drop.
    is_carried_over = models.BooleanField(_("carried over"), default=False)

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


class TableSizeStat(models.Model):
    """One table's size on one day: the day's largest and fastest-growing tables of a database,
    plus one "other tables" row (`is_other`, empty names) holding the rest, so the rows of a
    database and day sum to the sizes of all its tables.

    The "other" row's schema and table names are '' rather than NULL so the unique key holds for
    it too (NULLs never collide in a unique constraint); the API shows its table_name as null.
    """

    instance = models.ForeignKey(
        "instances.Instance", verbose_name=_("instance"), on_delete=models.CASCADE, related_name="table_sizes"
    )
    database_name = models.CharField(_("database"), max_length=255)
    schema_name = models.CharField(_("schema"), max_length=255, blank=True, default="")
    table_name = models.CharField(_("table"), max_length=255, blank=True, default="")
    is_other = models.BooleanField(_("other tables"), default=False)
    rows_estimate = models.BigIntegerField(_("rows (estimate)"), null=True, blank=True)
    data_size_bytes = models.BigIntegerField(_("data size (bytes)"))
    index_size_bytes = models.BigIntegerField(_("index size (bytes)"))
    lob_size_bytes = models.BigIntegerField(_("LOB size (bytes)"), null=True, blank=True)
    total_size_bytes = models.BigIntegerField(_("total size (bytes)"))
    #: For the "other" row: how many tables it stands for.
    table_count = models.PositiveIntegerField(_("tables"), default=1)
    collected_date = models.DateField(_("collected date"))
    collected_at = models.DateTimeField(_("collected at"))

    class Meta:
        verbose_name = _("table size")
        verbose_name_plural = _("table sizes")
        ordering = ["-collected_date", "database_name", "-total_size_bytes"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "database_name", "schema_name", "table_name", "collected_date"],
                name="tablesize_unique_per_day",
            ),
        ]
        indexes = [
            # One database's tables on one day, and one table's history.
            models.Index(fields=["instance", "database_name", "-collected_date"], name="tablesize_db_date"),
            # Retention by date.
            models.Index(fields=["collected_date"], name="tablesize_date"),
        ]

    def __str__(self):
        name = f"{self.schema_name}.{self.table_name}" if not self.is_other else "(other)"
        return f"{self.instance_id}/{self.database_name}/{name} @ {self.collected_date}"

    @property
    def total_size_mb(self):
        return to_mib(self.total_size_bytes)


class InstanceSizeStat(models.Model):
    """An instance's total on one day, written in the same transaction as its databases."""

    instance = models.ForeignKey(
        "instances.Instance", verbose_name=_("instance"), on_delete=models.CASCADE, related_name="size_stats"
    )
    total_size_bytes = models.BigIntegerField(_("total size (bytes)"))
    database_count = models.PositiveIntegerField(_("databases"))
    # The same figures without the engine's system databases (information_schema, master, postgres,
    # SYSTEM/SYSAUX, …): what the users' own data takes. The total above stays whole, since it is
    # what the disk holds and what "days until full" is measured against. Null only on rows no
    # save has written since the figure was added and the upgrade could not derive it.
    user_total_size_bytes = models.BigIntegerField(_("user databases' size (bytes)"), null=True, blank=True)
    user_database_count = models.PositiveIntegerField(_("user databases"), null=True, blank=True)
    collected_date = models.DateField(_("collected date"))
    collected_at = models.DateTimeField(_("collected at"))
    # Reserved by the contract and kept: no writer sets it today (a deleted instance takes its rows with
    # it, an instance whose databases all vanished has a real total of 0 B). Readers still skip rows set.
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

    @property
    def user_total_size_mb(self):
        return to_mib(self.user_total_size_bytes)
