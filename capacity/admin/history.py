from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin, size_column
from common.formatting import human_bytes

from ..models import (
    DatabaseInventory,
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    InstanceSizeStat,
    MaintenanceRun,
)
from ..services.readmodels import EstimatedCountPaginator
from ..views import dashboard


@admin.register(DatabaseSizeStat)
class DatabaseSizeStatAdmin(ReadOnlyAdmin):
    list_display = [
        "database_name",
        "instance",
        "size",
        "data_size",
        "index_size",
        "log_size",
        "collected_date",
        "is_deleted",
    ]
    list_filter = ["collected_date", "is_deleted", "instance__db_type", "instance"]
    search_fields = ["database_name", "instance__name"]
    # The instances of a page in a second query rather than a join (an empty tuple: no select_related
    # at all): with a join, MySQL/MariaDB starts from the small instance table and sorts every daily
    # row for the first page.
    list_select_related = ()
    # Years of daily rows: no count of the whole table, an estimated count of the filtered one, and
    # no date hierarchy (its year and month links are a scan of every row).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Newest first in the order of the date index (the admin adds -pk): on MySQL/MariaDB the index
    # holds (collected_date, id), so the first page is read from it instead of sorting every row.
    ordering = ["-collected_date"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("instance")

    size = size_column("size_bytes", _("size"))

    data_size = size_column("data_size_bytes", _("data"))

    index_size = size_column("index_size_bytes", _("index"))

    log_size = size_column("log_size_bytes", _("log"))


@admin.register(InstanceSizeStat)
class InstanceSizeStatAdmin(ReadOnlyAdmin):
    """Instance totals; also mounts the fleet dashboard, which anyone allowed to see them may open."""

    list_display = ["instance", "total_size", "database_count", "collected_date", "collected_at"]
    list_filter = ["collected_date", "instance__db_type", "instance"]
    search_fields = ["instance__name"]
    date_hierarchy = "collected_date"
    list_select_related = ["instance"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="capacity_dashboard"),
            path(
                "dashboard/history/",
                self.admin_site.admin_view(self.dashboard_history_view),
                name="capacity_dashboard_history",
            ),
        ] + super().get_urls()

    def dashboard_view(self, request):
        return dashboard.dashboard(self, request)

    def dashboard_history_view(self, request):
        return dashboard.dashboard_history(self, request)

    total_size = size_column("total_size_bytes", _("total size"))


@admin.register(DatabaseInventory)
class DatabaseInventoryAdmin(ReadOnlyAdmin):
    class Media:  # the change-list layout that keeps every column on a 1366 px screen
        css = {"all": ["capacity/css/capacity.css"]}

    list_display = [
        "database_name",
        "instance",
        "last_size",
        "is_system",
        "first_seen_at",
        "last_seen_at",
        "is_deleted",
        "deleted_at",
        "restored_at",
    ]
    list_filter = ["is_deleted", "is_system", "instance__db_type", "instance"]
    search_fields = ["database_name", "instance__name"]
    list_select_related = ["instance"]

    last_size = size_column("last_size_bytes", _("last size"))


class SizeAggregateAdmin(ReadOnlyAdmin):
    list_filter = ["period_type", "is_complete", "instance__db_type", "instance"]
    list_select_related = ["instance"]
    # Weekly, monthly and quarterly rows of every database: millions after a few years.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    avg_size = size_column("avg_size_bytes", _("average"))

    max_size = size_column("max_size_bytes", _("largest"))

    @admin.display(description=_("growth"), ordering="growth_bytes")
    def growth(self, obj):
        rate = "" if obj.growth_rate is None else f" ({obj.growth_rate:+.1f}%)"
        return f"{human_bytes(obj.growth_bytes)}{rate}"


@admin.register(DatabaseSizeAggregate)
class DatabaseSizeAggregateAdmin(SizeAggregateAdmin):
    list_display = [
        "database_name",
        "instance",
        "period_type",
        "period_start",
        "period_end",
        "avg_size",
        "max_size",
        "growth",
        "sample_count",
        "is_complete",
    ]
    search_fields = ["database_name", "instance__name"]


@admin.register(InstanceSizeAggregate)
class InstanceSizeAggregateAdmin(SizeAggregateAdmin):
    list_display = [
        "instance",
        "period_type",
        "period_start",
        "period_end",
        "avg_size",
        "max_size",
        "growth",
        "last_database_count",
        "sample_count",
        "is_complete",
    ]
    search_fields = ["instance__name"]


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(ReadOnlyAdmin):
    list_display = ["job", "started_at", "finished_at", "success", "watermark", "error"]
    list_filter = ["job", "success"]
