from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.badges import status_badge
from common.field_limits import ADMIN_FIELD_LIMITS
from common.formatting import local_datetime
from common.sizefields import ByteSizeFormField

from . import binding
from .forms import CredentialForm, CredentialTargetForm, InstanceAdminForm
from .models import Credential, CredentialTarget, Instance


class CredentialTargetInline(admin.TabularInline):
    """Where the credential's password may be sent: seen by its viewers, added or removed by its managers."""

    model = CredentialTarget
    form = CredentialTargetForm
    extra = 0
    fields = ["db_type", "host", "port", "note", "approved_by", "approved_at"]
    readonly_fields = ["approved_by", "approved_at"]
    verbose_name = _("approved target")
    verbose_name_plural = _("approved targets (engine, host and port this credential's password may be sent to)")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("instances.view_credential") or binding.may_approve(request.user)

    def has_add_permission(self, request, obj=None):
        return binding.may_approve(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # an approval is added or removed, never moved to another target

    def has_delete_permission(self, request, obj=None):
        return binding.may_approve(request.user)


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    formfield_overrides = ADMIN_FIELD_LIMITS
    list_display = ["name", "username", "has_password_display", "updated_at"]
    search_fields = ["name", "username"]
    inlines = [CredentialTargetInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not CredentialTarget:
            return super().save_formset(request, form, formset, change)
        approvals = formset.save(commit=False)
        for approval in approvals:
            if approval.pk is None:
                approval.approved_by = request.user
            approval.save()
        for gone in formset.deleted_objects:
            gone.delete()

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


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    """The instance as registered: connection, options, limit and the last collection's outcome.

    capacity re-registers a subclass that adds sizes, growth, the capacity page and the buttons."""

    form = InstanceAdminForm
    formfield_overrides = ADMIN_FIELD_LIMITS
    list_display = [
        "name",
        "server",
        "last_collection",
    ]
    list_filter = ["db_type", "is_active", LastStatusFilter, "last_sync_error_kind"]
    search_fields = ["name", "host", "description"]
    readonly_fields = [
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
        (_("Engine options and capacity"), {"fields": ["options", "capacity_limit_bytes", "collect_tables"]}),
        (_("Last collection"), {"fields": readonly_fields}),
    ]
    list_select_related = ["credential"]

    class Media:
        css = {"all": ["capacity/css/capacity.css"]}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Only credential managers pick a credential: nobody else is offered one to send anywhere.
        if not binding.may_approve(request.user):
            fields.append("credential")
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A credential manager saving the instance approves its credential for its target.
        if obj.credential_id is not None and binding.may_approve(request.user):
            binding.approve(obj, request.user, note="admin")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "capacity_limit_bytes":  # typed and shown with a unit: "50 GiB"
            return ByteSizeFormField(label=_("Capacity limit"), required=False, min_value=1)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # A new instance has no collection to show yet.
        return fieldsets if obj is not None else fieldsets[:-1]

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

    @admin.display(description=_("last collection"), ordering="last_sync_at")
    def last_collection(self, obj):
        label, css = status_badge(obj.last_sync_status)
        title = ""
        if obj.last_sync_error:
            title = _("%(kind)s: %(error)s") % {
                "kind": obj.get_last_sync_error_kind_display(),
                "error": obj.last_sync_error,
            }
        return format_html(
            '{}<br><span class="{}" title="{}" data-instance="{}" data-capacity-field="status">{}</span>',
            self._cell(obj, "last_sync_at", local_datetime(obj.last_sync_at)),
            css,
            title,
            obj.pk,
            label,
        )

    @admin.display(description=_("last connected"))
    def last_connected_cell(self, obj):
        return self._cell(obj, "last_connected", local_datetime(obj.last_connected))

    @admin.display(description=_("last collection"))
    def last_sync_at_cell(self, obj):
        return self._cell(obj, "last_sync_at", local_datetime(obj.last_sync_at))

    @admin.display(description=_("last collection status"))
    def last_sync_status_badge(self, obj):
        label, css = status_badge(obj.last_sync_status)
        return format_html(
            '<span class="{}" data-instance="{}" data-capacity-field="status">{}</span>', css, obj.pk, label
        )
