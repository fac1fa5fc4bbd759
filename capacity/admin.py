from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from . import admin_views
from .formatting import human_bytes
from .models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is written by collection only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    date_hierarchy = "collected_date"
    list_select_related = ["instance"]

    @admin.display(description=_("size"), ordering="size_bytes")
    def size(self, obj):
        return human_bytes(obj.size_bytes)

    @admin.display(description=_("data"), ordering="data_size_bytes")
    def data_size(self, obj):
        return human_bytes(obj.data_size_bytes)

    @admin.display(description=_("index"), ordering="index_size_bytes")
    def index_size(self, obj):
        return human_bytes(obj.index_size_bytes)

    @admin.display(description=_("log"), ordering="log_size_bytes")
    def log_size(self, obj):
        return human_bytes(obj.log_size_bytes)


@admin.register(InstanceSizeStat)
class InstanceSizeStatAdmin(ReadOnlyAdmin):
    """Instance totals; also mounts the fleet dashboard, which anyone allowed to see them may open."""

    list_display = ["instance", "total_size", "database_count", "collected_date", "collected_at"]
    list_filter = ["collected_date", "instance__db_type", "instance"]
    search_fields = ["instance__name"]
    date_hierarchy = "collected_date"
    list_select_related = ["instance"]

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
        return admin_views.dashboard(self, request)

    def dashboard_history_view(self, request):
        return admin_views.dashboard_history(self, request)

    @admin.display(description=_("total size"), ordering="total_size_bytes")
    def total_size(self, obj):
        return human_bytes(obj.total_size_bytes)


@admin.register(DatabaseInventory)
class DatabaseInventoryAdmin(ReadOnlyAdmin):
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

    @admin.display(description=_("last size"), ordering="last_size_bytes")
    def last_size(self, obj):
        return human_bytes(obj.last_size_bytes)
