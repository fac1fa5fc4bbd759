"""One FilterSet per model of the capacity app, shared by the API and any list page."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common.filters import BooleanFilter, DateFilter, DateRangeForm, KeyMultipleChoiceFilter
from instances.choices import DbType
from instances.models import Instance

from .models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat


def latest_per_database(queryset, *, hide_deleted: bool, inventory=None, until=None):
    """The newest row of each (instance, database) among the queryset's rows, index-backed.

    The inventory names the databases and one probe per database finds its newest day (see
    capacity.services.readmodels.latest_rows), so the cost follows the databases, not the days kept.
    The rank is taken over every row left by the other filters, deleted ones included, so a
    database that vanished is represented by its "deleted" row and then dropped when
    `hide_deleted`, rather than by an older row from before it vanished.
    """
    from .services.readmodels import latest_rows

    return latest_rows(
        queryset,
        DatabaseInventory.objects.all() if inventory is None else inventory,
        hide_deleted=hide_deleted,
        until=until,
    )


class InstanceFiltersMixin(django_filters.FilterSet):
    """`instance_id` (key), `instance` (name) and `db_type` for rows that belong to an instance."""

    instance_id = KeyMultipleChoiceFilter(
        field_name="instance", queryset=Instance.objects.all(), label=_("Instance (ID)")
    )
    instance = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="instance__name",
            to_field_name="name",
            queryset=Instance.objects.all(),
            label=_("Instance (name)"),
        )
    )
    db_type = django_filters.MultipleChoiceFilter(
        field_name="instance__db_type", choices=DbType.choices, label=_("Database type")
    )


class DatabaseSizeStatFilterSet(InstanceFiltersMixin):
    database_name = django_filters.CharFilter(label=_("Database name"))
    search = django_filters.CharFilter(field_name="database_name", lookup_expr="icontains", label=_("Search"))
    start_date = DateFilter(field_name="collected_date", lookup_expr="gte", label=_("From date"))
    end_date = DateFilter(field_name="collected_date", lookup_expr="lte", label=_("To date"))
    collected_date = DateFilter(label=_("Collected date"))
    min_size_bytes = django_filters.NumberFilter(field_name="size_bytes", lookup_expr="gte", label=_("Minimum size"))
    max_size_bytes = django_filters.NumberFilter(field_name="size_bytes", lookup_expr="lte", label=_("Maximum size"))
    is_deleted = BooleanFilter(label=_("Deleted"))
    latest_only = BooleanFilter(method="filter_applied_last", label=_("Latest row per database only"))
    include_deleted = BooleanFilter(method="filter_applied_last", label=_("Include deleted databases"))

    class Meta:
        model = DatabaseSizeStat
        form = DateRangeForm
        fields = [
            "id",
            "instance_id",
            "instance",
            "db_type",
            "database_name",
            "search",
            "start_date",
            "end_date",
            "collected_date",
            "min_size_bytes",
            "max_size_bytes",
            "is_deleted",
            "latest_only",
            "include_deleted",
        ]

    def filter_applied_last(self, queryset, name, value):
        # latest_only and include_deleted act on the result of every other filter: see filter_queryset.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        # Deleted rows are history most readers do not want; an explicit is_deleted wins.
        hide_deleted = not data.get("include_deleted") and data.get("is_deleted") is None
        if data.get("latest_only"):
            ends = [day for day in (data.get("end_date"), data.get("collected_date")) if day]
            return latest_per_database(
                queryset, hide_deleted=hide_deleted, inventory=self.inventory(), until=min(ends, default=None)
            )
        return queryset.filter(is_deleted=False) if hide_deleted else queryset

    def inventory(self):
        """The databases latest_only ranks: those of the instances the other filters name."""
        data = self.form.cleaned_data
        inventory = DatabaseInventory.objects.all()
        if data.get("instance_id"):
            inventory = inventory.filter(instance__in=data["instance_id"])
        if data.get("instance"):
            inventory = inventory.filter(instance__in=data["instance"])
        if data.get("db_type"):
            inventory = inventory.filter(instance__db_type__in=data["db_type"])
        if data.get("database_name"):
            inventory = inventory.filter(database_name=data["database_name"])
        return inventory


class InstanceDatabaseSizeStatFilterSet(DatabaseSizeStatFilterSet):
    """DatabaseSizeStatFilterSet under /instances/{instance_id}/, where the URL already names the instance."""

    instance_id = None
    instance = None
    db_type = None

    class Meta(DatabaseSizeStatFilterSet.Meta):
        fields = [
            name for name in DatabaseSizeStatFilterSet.Meta.fields if name not in ("instance_id", "instance", "db_type")
        ]

    def inventory(self):
        # The URL's instance (already looked up by the view): its databases only.
        inventory = super().inventory()
        context = getattr(self.request, "parser_context", None) or {}
        instance_id = (context.get("kwargs") or {}).get("instance_id")
        return inventory.filter(instance_id=instance_id) if str(instance_id).isdigit() else inventory


class InstanceSizeStatFilterSet(InstanceFiltersMixin):
    start_date = DateFilter(field_name="collected_date", lookup_expr="gte", label=_("From date"))
    end_date = DateFilter(field_name="collected_date", lookup_expr="lte", label=_("To date"))
    collected_date = DateFilter(label=_("Collected date"))
    is_deleted = BooleanFilter(label=_("Deleted"))

    class Meta:
        model = InstanceSizeStat
        form = DateRangeForm
        fields = ["id", "instance_id", "instance", "db_type", "start_date", "end_date", "collected_date", "is_deleted"]


class DatabaseInventoryFilterSet(InstanceFiltersMixin):
    database_name = django_filters.CharFilter(label=_("Database name"))
    search = django_filters.CharFilter(field_name="database_name", lookup_expr="icontains", label=_("Search"))
    is_system = BooleanFilter(label=_("System database"))
    is_deleted = BooleanFilter(label=_("Deleted"))

    class Meta:
        model = DatabaseInventory
        fields = ["id", "instance_id", "instance", "db_type", "database_name", "search", "is_system", "is_deleted"]
