"""One FilterSet per model of the capacity app, shared by the API and any list page."""

import django_filters
from django.db.models import F, Window
from django.db.models.functions import FirstValue, RowNumber
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common.filters import BooleanFilter, DateFilter, DateRangeForm, KeyMultipleChoiceFilter
from instances.choices import DbType
from instances.models import Instance

from .models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat


def latest_per_database(queryset, *, hide_deleted: bool):
    """The newest row of each (instance, database) in one query, with a window function.

    The rank is taken over every row left by the other filters, deleted ones included, so a
    database that vanished is represented by its "deleted" row and then dropped when
    `hide_deleted`, rather than by an older row from before it vanished.
    """
    partition = [F("instance_id"), F("database_name")]
    newest_first = [F("collected_date").desc()]
    queryset = queryset.annotate(
        _rank=Window(RowNumber(), partition_by=partition, order_by=newest_first),
        _latest_is_deleted=Window(FirstValue("is_deleted"), partition_by=partition, order_by=newest_first),
    ).filter(_rank=1)
    if hide_deleted:
        # Both conditions name a window, so they are applied after ranking, not before.
        queryset = queryset.filter(_latest_is_deleted=False)
    return queryset


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
    is_carried_over = BooleanFilter(label=_("Carried over (the collection could not read it)"))
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
            "is_carried_over",
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
            return latest_per_database(queryset, hide_deleted=hide_deleted)
        return queryset.filter(is_deleted=False) if hide_deleted else queryset


class InstanceDatabaseSizeStatFilterSet(DatabaseSizeStatFilterSet):
    """DatabaseSizeStatFilterSet under /instances/{instance_id}/, where the URL already names the instance."""

    instance_id = None
    instance = None
    db_type = None

    class Meta(DatabaseSizeStatFilterSet.Meta):
        fields = [
            name for name in DatabaseSizeStatFilterSet.Meta.fields if name not in ("instance_id", "instance", "db_type")
        ]


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
