from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from capacity.formatting import human_bytes

from .models import SyncInstanceRecord, SyncSession


class SyncInstanceRecordInline(admin.TabularInline):
    model = SyncInstanceRecord
    extra = 0
    can_delete = False
    fields = [
        "instance_name",
        "status",
        "databases_count",
        "saved_count",
        "deleted_count",
        "total_size",
        "error_kind",
        "error",
        "warnings",
        "started_at",
        "completed_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("total size"))
    def total_size(self, obj):
        return human_bytes(obj.total_size_bytes)


@admin.register(SyncSession)
class SyncSessionAdmin(admin.ModelAdmin):
    list_display = [
        "session_id",
        "sync_type",
        "status",
        "started_at",
        "duration",
        "total_instances",
        "successful_instances",
        "failed_instances",
        "skipped_instances",
        "total_databases",
        "total_size",
        "created_by",
    ]
    list_filter = ["status", "sync_type", "started_at"]
    search_fields = ["session_id", "records__instance_name"]
    inlines = [SyncInstanceRecordInline]
    readonly_fields = [
        "session_id",
        "sync_type",
        "category",
        "status",
        "total_instances",
        "successful_instances",
        "failed_instances",
        "skipped_instances",
        "total_databases",
        "total_size_bytes",
        "started_at",
        "completed_at",
        "created_by",
    ]
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("duration (s)"))
    def duration(self, obj):
        return obj.duration_seconds if obj.duration_seconds is not None else "—"

    @admin.display(description=_("total size"), ordering="total_size_bytes")
    def total_size(self, obj):
        return human_bytes(obj.total_size_bytes)


@admin.register(SyncInstanceRecord)
class SyncInstanceRecordAdmin(admin.ModelAdmin):
    list_display = ["instance_name", "session", "status", "error_kind", "databases_count", "total_size", "completed_at"]
    list_filter = ["status", "error_kind", "session__sync_type"]
    search_fields = ["instance_name", "error"]
    list_select_related = ["session"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("total size"), ordering="total_size_bytes")
    def total_size(self, obj):
        return human_bytes(obj.total_size_bytes)
