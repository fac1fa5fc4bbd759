from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.admin import size_column
from common.badges import status_badge
from common.formatting import human_duration

from .choices import SessionStatus
from .models import SyncInstanceRecord, SyncSession
from .services import cancel_session


def badge(status, label):
    css = status_badge(status)[1]
    return format_html('<span class="{}">{}</span>', css, label)


class CapacityMedia:
    css = {"all": ["capacity/css/capacity.css"]}


class SyncInstanceRecordInline(admin.TabularInline):
    model = SyncInstanceRecord
    extra = 0
    can_delete = False
    fields = [
        "instance_link",
        "status_display",
        "databases_count",
        "saved_count",
        "deleted_count",
        "total_size",
        "duration",
        "error_kind",
        "error",
        "warnings",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("instance")

    @admin.display(description=_("instance"))
    def instance_link(self, obj):
        if obj.instance_id is None:
            return obj.instance_name
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:instances_instance_capacity", args=[obj.instance_id]),
            obj.instance_name,
        )

    @admin.display(description=_("status"))
    def status_display(self, obj):
        return badge(obj.status, obj.get_status_display())

    total_size = size_column("total_size_bytes", _("total size"), sortable=False)

    @admin.display(description=_("duration"))
    def duration(self, obj):
        return human_duration(obj.duration_seconds)


@admin.register(SyncSession)
class SyncSessionAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "short_id",
        "sync_type",
        "status_display",
        "duration",
        "instances_done",
        "failed_instances",
        "skipped_instances",
        "total_databases",
        "total_size",
        "created_by",
    ]
    list_display_links = ["started_at", "short_id"]
    list_filter = ["status", "sync_type", "started_at"]
    list_select_related = ["created_by"]
    search_fields = ["session_id", "records__instance_name"]
    inlines = [SyncInstanceRecordInline]
    fieldsets = [
        (
            None,
            {"fields": ["session_id", "sync_type", "category", "status_display", "created_by"]},
        ),
        (
            _("Timing"),
            {"fields": ["started_at", "completed_at", "duration", "heartbeat_at", "cancelled_at", "cancelled_by"]},
        ),
        (
            _("Counts"),
            {
                "fields": [
                    "total_instances",
                    "successful_instances",
                    "failed_instances",
                    "skipped_instances",
                    "total_databases",
                    "total_size",
                ]
            },
        ),
    ]
    readonly_fields = [
        "session_id",
        "sync_type",
        "category",
        "status_display",
        "total_instances",
        "successful_instances",
        "failed_instances",
        "skipped_instances",
        "total_databases",
        "total_size",
        "started_at",
        "completed_at",
        "duration",
        "created_by",
        "heartbeat_at",
        "cancelled_at",
        "cancelled_by",
    ]
    date_hierarchy = "started_at"
    Media = CapacityMedia
    actions = ["action_cancel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_sync_capacity_permission(self, request):
        return request.user.has_perm("instances.sync_capacity")

    @admin.action(description=_("Cancel the selected running sessions"), permissions=["sync_capacity"])
    def action_cancel(self, request, queryset):
        running = list(queryset.filter(status=SessionStatus.RUNNING))
        skipped = sum(cancel_session(session, by=request.user) for session in running)
        self.message_user(
            request,
            ngettext(
                "%(n)d running session cancelled (%(skipped)d pending instances skipped).",
                "%(n)d running sessions cancelled (%(skipped)d pending instances skipped).",
                len(running),
            )
            % {"n": len(running), "skipped": skipped},
            messages.SUCCESS if running else messages.WARNING,
        )

    @admin.display(description=_("session"), ordering="session_id")
    def short_id(self, obj):
        return str(obj.session_id)[:8]

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description=_("duration"))
    def duration(self, obj):
        if obj.completed_at is None:
            return _("running")
        return human_duration(obj.duration_seconds)

    @admin.display(description=_("succeeded / instances"), ordering="successful_instances")
    def instances_done(self, obj):
        return f"{obj.successful_instances} / {obj.total_instances}"

    total_size = size_column("total_size_bytes", _("total size"))


@admin.register(SyncInstanceRecord)
class SyncInstanceRecordAdmin(admin.ModelAdmin):
    list_display = [
        "instance_name",
        "session",
        "status_display",
        "error_kind",
        "databases_count",
        "total_size",
        "duration",
        "completed_at",
    ]
    list_filter = ["status", "error_kind", "session__sync_type"]
    search_fields = ["instance_name", "error"]
    list_select_related = ["session"]
    Media = CapacityMedia

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        return badge(obj.status, obj.get_status_display())

    total_size = size_column("total_size_bytes", _("total size"))

    @admin.display(description=_("duration"))
    def duration(self, obj):
        return human_duration(obj.duration_seconds)
