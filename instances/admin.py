from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from capacity import admin_views
from capacity.formatting import human_bytes

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


class LastStatusFilter(admin.SimpleListFilter):
    """The last collection's outcome, in words, including instances never collected."""

    title = _("last collection status")
    parameter_name = "last_status"

    def lookups(self, request, model_admin):
        return [("completed", _("OK")), ("failed", _("Failed")), ("never", _("Never collected"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "never":
            return queryset.filter(last_sync_status="")
        if value in ("completed", "failed"):
            return queryset.filter(last_sync_status=value)
        return queryset


class SyncPermissionMixin:
    def has_sync_capacity_permission(self, request):
        return request.user.has_perm("instances.sync_capacity")


@admin.register(Instance)
class InstanceAdmin(SyncPermissionMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "server",
        "latest_total",
        "latest_database_count",
        "growth",
        "last_collection",
    ]
    list_filter = ["db_type", "is_active", LastStatusFilter, "last_sync_error_kind"]
    search_fields = ["name", "host", "description"]
    readonly_fields = [
        "latest_total",
        "latest_database_count",
        "last_connected_cell",
        "last_sync_at_cell",
        "last_sync_status_badge",
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

    class Media:
        css = {"all": ["capacity/css/capacity.css"]}
        js = ["capacity/js/instance_actions.js"]

    def get_queryset(self, request):
        return admin_views.annotate_instance_capacity(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # A new instance has no collection to show yet.
        return fieldsets if obj is not None else fieldsets[:-1]

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.has_perm("instances.sync_capacity"):
            columns.append("row_actions")
        return columns

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/capacity/",
                wrap(self.capacity_view),
                name="{}_{}_capacity".format(*info),
            ),
            path(
                "<path:object_id>/capacity/history/",
                wrap(self.capacity_history_view),
                name="{}_{}_capacity_history".format(*info),
            ),
            path(
                "<path:object_id>/sync-capacity/",
                wrap(self.sync_capacity_view),
                name="{}_{}_sync_capacity".format(*info),
            ),
            path(
                "<path:object_id>/test-connection/",
                wrap(self.test_connection_view),
                name="{}_{}_test_connection".format(*info),
            ),
        ] + super().get_urls()

    def capacity_view(self, request, object_id):
        return admin_views.instance_capacity(self, request, object_id)

    def capacity_history_view(self, request, object_id):
        return admin_views.instance_capacity_history(self, request, object_id)

    def sync_capacity_view(self, request, object_id):
        return admin_views.instance_sync_capacity(self, request, object_id)

    def test_connection_view(self, request, object_id):
        return admin_views.instance_test_connection(self, request, object_id)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"capacity_strings": admin_views.action_strings(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "capacity_url": reverse("admin:instances_instance_capacity", args=[object_id]),
            "capacity_strings": admin_views.action_strings(),
            "can_sync": request.user.has_perm("instances.sync_capacity"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("server"), ordering="db_type")
    def server(self, obj):
        inactive = format_html(' <span class="capacity-tag">{}</span>', _("inactive")) if not obj.is_active else ""
        return format_html(
            '{}{}<br><span class="capacity-muted">{}:{}</span>',
            obj.get_db_type_display(),
            inactive,
            obj.host,
            obj.effective_port,
        )

    def _cell(self, obj, field, text, css=""):
        """A cell the row buttons can refresh in place after a sync."""
        return format_html(
            '<span class="{}" data-instance="{}" data-capacity-field="{}">{}</span>', css, obj.pk, field, text
        )

    @admin.display(description=_("latest total"), ordering="latest_total_bytes")
    def latest_total(self, obj):
        return format_html(
            '<a href="{}" title="{}">{}</a>',
            reverse("admin:instances_instance_capacity", args=[obj.pk]),
            _("Capacity page"),
            self._cell(obj, "total", human_bytes(obj.latest_total_bytes)),
        )

    @admin.display(description=_("databases"), ordering="latest_db_count")
    def latest_database_count(self, obj):
        return self._cell(obj, "databases", "—" if obj.latest_db_count is None else obj.latest_db_count)

    @admin.display(description=_("growth 7 d / 30 d"), ordering="growth_30d_bytes")
    def growth(self, obj):
        return format_html(
            '<span class="capacity-muted">{}</span> {}<br><span class="capacity-muted">{}</span> {}',
            _("7 d"),
            self._cell(obj, "growth7", admin_views.signed_bytes(obj.growth_7d_bytes)),
            _("30 d"),
            self._cell(obj, "growth30", admin_views.signed_bytes(obj.growth_30d_bytes)),
        )

    @admin.display(description=_("last collection"), ordering="last_sync_at")
    def last_collection(self, obj):
        label, css = admin_views.status_badge(obj.last_sync_status)
        title = f"{obj.get_last_sync_error_kind_display()}: {obj.last_sync_error}" if obj.last_sync_error else ""
        return format_html(
            '{}<br><span class="{}" title="{}" data-instance="{}" data-capacity-field="status">{}</span>',
            self._cell(obj, "last_sync_at", admin_views.local_datetime(obj.last_sync_at)),
            css,
            title,
            obj.pk,
            label,
        )

    @admin.display(description=_("last connected"))
    def last_connected_cell(self, obj):
        return self._cell(obj, "last_connected", admin_views.local_datetime(obj.last_connected))

    @admin.display(description=_("last collection"))
    def last_sync_at_cell(self, obj):
        return self._cell(obj, "last_sync_at", admin_views.local_datetime(obj.last_sync_at))

    @admin.display(description=_("last collection status"))
    def last_sync_status_badge(self, obj):
        label, css = admin_views.status_badge(obj.last_sync_status)
        return format_html(
            '<span class="{}" data-instance="{}" data-capacity-field="status">{}</span>', css, obj.pk, label
        )

    @admin.display(description=_("actions"))
    def row_actions(self, obj):
        button = (
            '<button type="button" class="button" data-capacity-action="{}" data-url="{}" data-instance="{}">'
            "{}</button>"
        )
        return format_html(
            '<span class="capacity-actions" data-capacity-actions>{}{}'
            '<span class="capacity-spinner" hidden aria-hidden="true"></span>'
            '<span class="capacity-result" data-capacity-result role="status" aria-live="polite"></span></span>',
            format_html(
                button,
                "sync",
                reverse("admin:instances_instance_sync_capacity", args=[obj.pk]),
                obj.pk,
                _("Sync capacity"),
            ),
            format_html(
                button,
                "test",
                reverse("admin:instances_instance_test_connection", args=[obj.pk]),
                obj.pk,
                _("Test connection"),
            ),
        )

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
                    % {
                        "name": instance.name,
                        "kind": admin_views.error_kind_label(result.error_kind),
                        "error": result.error,
                    },
                    messages.ERROR,
                )

    @admin.action(description=_("Sync capacity"), permissions=["sync_capacity"])
    def action_sync_capacity(self, request, queryset):
        # Queued like POST /api/capacity/collect/: a request must not wait on a whole selection.
        from capacity.services.collect import start_queued_collection
        from sync_sessions.choices import SyncType

        session = start_queued_collection(list(queryset), sync_type=SyncType.MANUAL, created_by=request.user)
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                ngettext(
                    "%(n)d instance queued for collection.",
                    "%(n)d instances queued for collection.",
                    session.total_instances,
                )
                % {"n": session.total_instances},
                reverse("admin:sync_sessions_syncsession_change", args=[session.pk]),
                _("Follow the sync session (%(status)s).") % {"status": session.get_status_display()},
            ),
            messages.SUCCESS,
        )
