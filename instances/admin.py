from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from capacity.formatting import human_bytes
from capacity.models import InstanceSizeStat

from .forms import CredentialForm
from .models import Credential, Instance
from .services import test_connection


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = ["name", "username", "has_password_display", "updated_at"]
    search_fields = ["name", "username"]

    @admin.display(description=_("password set"), boolean=True)
    def has_password_display(self, obj):
        return obj.has_password


class SyncPermissionMixin:
    def has_sync_capacity_permission(self, request):
        return request.user.has_perm("instances.sync_capacity")


@admin.register(Instance)
class InstanceAdmin(SyncPermissionMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "db_type",
        "address",
        "is_active",
        "latest_total",
        "latest_database_count",
        "last_sync_at",
        "last_sync_status_display",
    ]
    list_filter = ["db_type", "is_active", "last_sync_status", "last_sync_error_kind"]
    search_fields = ["name", "host", "description"]
    readonly_fields = [
        "last_connected",
        "last_sync_at",
        "last_sync_status",
        "last_sync_error",
        "last_sync_error_kind",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "db_type", "host", "port", "credential", "is_active", "description"]}),
        (_("Engine options and capacity"), {"fields": ["options", "capacity_limit_bytes"]}),
        (_("Last collection"), {"fields": readonly_fields}),
    ]
    actions = ["action_test_connection", "action_sync_capacity"]
    list_select_related = ["credential"]

    def get_queryset(self, request):
        latest = InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False).order_by("-collected_date")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_total_bytes=Subquery(latest.values("total_size_bytes")[:1]),
                latest_db_count=Subquery(latest.values("database_count")[:1]),
            )
        )

    @admin.display(description=_("address"))
    def address(self, obj):
        return f"{obj.host}:{obj.effective_port}"

    @admin.display(description=_("latest total"), ordering="latest_total_bytes")
    def latest_total(self, obj):
        return human_bytes(obj.latest_total_bytes) if obj.latest_total_bytes is not None else "—"

    @admin.display(description=_("databases"), ordering="latest_db_count")
    def latest_database_count(self, obj):
        return obj.latest_db_count if obj.latest_db_count is not None else "—"

    @admin.display(description=_("last status"), ordering="last_sync_status")
    def last_sync_status_display(self, obj):
        if not obj.last_sync_status:
            return "—"
        colour = {"completed": "#2e7d32", "failed": "#c62828"}.get(obj.last_sync_status, "#666")
        label = {"completed": _("OK"), "failed": _("Failed")}.get(obj.last_sync_status, obj.last_sync_status)
        if obj.last_sync_error:
            return format_html(
                '<span style="color:{}" title="{}">{} ({})</span>',
                colour,
                obj.last_sync_error,
                label,
                obj.last_sync_error_kind,
            )
        return format_html('<span style="color:{}">{}</span>', colour, label)

    @admin.action(description=_("Test connection"), permissions=["sync_capacity"])
    def action_test_connection(self, request, queryset):
        for instance in queryset.select_related("credential"):
            result = test_connection(instance)
            if result.success:
                self.message_user(
                    request,
                    _("%(name)s: connected in %(ms)d ms (%(version)s).")
                    % {"name": instance.name, "ms": result.elapsed_ms, "version": result.server_version},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    _("%(name)s: connection failed [%(kind)s]: %(error)s")
                    % {"name": instance.name, "kind": result.error_kind, "error": result.error},
                    messages.ERROR,
                )

    @admin.action(description=_("Sync capacity"), permissions=["sync_capacity"])
    def action_sync_capacity(self, request, queryset):
        from capacity.services.collect import collect
        from sync_sessions.choices import RecordStatus, SyncType

        session = collect(list(queryset), sync_type=SyncType.MANUAL, created_by=request.user)
        for record in session.records.order_by("instance_name"):
            if record.status == RecordStatus.COMPLETED:
                self.message_user(
                    request,
                    ngettext(
                        "%(name)s: %(n)d database, %(size)s.",
                        "%(name)s: %(n)d databases, %(size)s.",
                        record.databases_count,
                    )
                    % {
                        "name": record.instance_name,
                        "n": record.databases_count,
                        "size": human_bytes(record.total_size_bytes),
                    },
                    messages.SUCCESS,
                )
            elif record.status == RecordStatus.SKIPPED:
                self.message_user(request, f"{record.instance_name}: {record.error}", messages.WARNING)
            else:
                self.message_user(
                    request,
                    _("%(name)s: collection failed [%(kind)s]: %(error)s")
                    % {"name": record.instance_name, "kind": record.error_kind, "error": record.error},
                    messages.ERROR,
                )
