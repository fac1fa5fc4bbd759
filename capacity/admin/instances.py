"""The instance admin as staff use it: instances' own admin plus sizes, growth, the capacity page and the
collect / test-connection buttons and actions (same URLs, re-registered over instances' ModelAdmin)."""

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.formatting import human_bytes, signed_bytes
from instances.admin import InstanceAdmin
from instances.models import Instance
from instances.services import check_connection

from ..queries import annotate_instance_capacity
from ..views import actions
from ..views import instance as instance_page
from ..views.actions import action_strings


class InstanceCapacityAdmin(InstanceAdmin):
    list_display = ["name", "server", "latest_total", "latest_database_count", "growth", "last_collection"]
    readonly_fields = ["latest_total", "latest_database_count", *InstanceAdmin.readonly_fields]
    fieldsets = [*InstanceAdmin.fieldsets[:-1], (_("Last collection"), {"fields": readonly_fields})]
    actions = ["action_test_connection", "action_sync_capacity"]

    class Media:
        css = {"all": ["capacity/css/capacity.css"]}
        js = ["capacity/js/instance_actions.js"]

    def has_sync_capacity_permission(self, request):
        return request.user.has_perm("instances.sync_capacity")

    def get_queryset(self, request):
        return annotate_instance_capacity(super().get_queryset(request))

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
        return instance_page.instance_capacity(self, request, object_id)

    def capacity_history_view(self, request, object_id):
        return instance_page.instance_capacity_history(self, request, object_id)

    def sync_capacity_view(self, request, object_id):
        return actions.instance_sync_capacity(self, request, object_id)

    def test_connection_view(self, request, object_id):
        return actions.instance_test_connection(self, request, object_id)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"capacity_strings": action_strings(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "capacity_url": reverse("admin:instances_instance_capacity", args=[object_id]),
            "capacity_strings": action_strings(),
            "can_sync": request.user.has_perm("instances.sync_capacity"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

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
            self._cell(obj, "growth7", signed_bytes(obj.growth_7d_bytes)),
            _("30 d"),
            self._cell(obj, "growth30", signed_bytes(obj.growth_30d_bytes)),
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
            outcome = check_connection(instance, user=request.user)
            self.message_user(request, outcome.summary, messages.SUCCESS if outcome.success else messages.ERROR)

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


admin.site.unregister(Instance)
admin.site.register(Instance, InstanceCapacityAdmin)
