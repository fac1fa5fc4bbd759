"""Admin of alert rules and alerts. The old /admin/capacity/alertrule/ and /admin/capacity/alert/ pages
redirect here (see urls.py)."""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.admin import ReadOnlyAdmin
from common.formatting import human_bytes
from common.sizefields import ByteSizeFormField

from .choices import AlertStatus, AlertUnit
from .models import Alert, AlertRule


def alert_quantity(value, unit) -> str:
    """A threshold or an alert value in its unit's words: 1.50 GiB, 12.50 %, 30 days."""
    if value is None:
        return "—"
    if unit == AlertUnit.BYTES:
        return human_bytes(int(value))
    if unit == AlertUnit.PERCENT:
        return f"{number_format(value, 2)} %"
    days = int(value)
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


class CapacityCss:
    css = {"all": ["capacity/css/capacity.css"]}


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "threshold_display", "scope", "has_webhook", "firing", "is_active"]
    list_filter = ["kind", "is_active", "db_type"]
    search_fields = ["name", "instance__name"]
    list_select_related = ["instance"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "is_active"]}),
        (_("Scope"), {"fields": ["instance", "db_type", "include_system_databases"]}),
        (_("Threshold"), {"fields": ["threshold_bytes", "threshold_percent", "threshold_days", "window_days"]}),
        (_("Notification"), {"fields": ["webhook_url"]}),
    ]
    Media = CapacityCss

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(firing_count=Count("alerts", filter=Q(alerts__status=AlertStatus.FIRING)))
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read-only visitors see where the webhook goes, not its (often secret-bearing) path.
        return [
            (name, {**options, "fields": ["webhook" if f == "webhook_url" else f for f in options["fields"]]})
            for name, options in fieldsets
        ]

    @admin.display(description=_("webhook URL"))
    def webhook(self, obj):
        shown = obj.redacted_webhook_url or "—"
        problem = obj.webhook_problem
        return _("%(url)s (invalid: %(reason)s)") % {"url": shown, "reason": problem} if problem else shown

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "threshold_bytes":  # typed and shown with a unit: "50 GiB"
            return ByteSizeFormField(label=_("Threshold size"), required=False, min_value=1)
        if db_field.name == "webhook_url":
            kwargs["assume_scheme"] = "https"  # a bare host name means https, as Django 6 will have it
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("threshold"))
    def threshold_display(self, obj):
        shown = alert_quantity(obj.threshold, obj.unit)
        if obj.unit == AlertUnit.PERCENT:
            return _("%(threshold)s over %(days)s") % {"threshold": shown, "days": alert_quantity(obj.window_days, "")}
        if obj.unit == AlertUnit.DAYS:
            return _("%(threshold)s or fewer (trend over %(days)s)") % {
                "threshold": shown,
                "days": alert_quantity(obj.window_days, ""),
            }
        return shown

    @admin.display(description=_("scope"))
    def scope(self, obj):
        where = obj.instance.name if obj.instance_id else _("Every active instance")
        return f"{where} ({obj.get_db_type_display()})" if obj.db_type else where

    @admin.display(description=_("webhook"))
    def has_webhook(self, obj):
        if not obj.webhook_url:
            return "—"
        problem = obj.webhook_problem
        if problem:  # a stored value no longer valid (an address now refused, a port out of range)
            return format_html(
                '<span class="capacity-status capacity-status-failed" title="{}">{}</span>',
                problem,
                _("invalid: %(reason)s") % {"reason": problem},
            )
        return _("yes")

    @admin.display(description=_("firing"), ordering="firing_count")
    def firing(self, obj):
        url = reverse("admin:alerting_alert_changelist") + f"?rule__id__exact={obj.pk}&status__exact=firing"
        css = "capacity-status capacity-status-failed" if obj.firing_count else "capacity-muted"
        return format_html('<a href="{}"><span class="{}">{}</span></a>', url, css, obj.firing_count)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = [
        "status_badge",
        "rule",
        "kind",
        "instance",
        "database_name",
        "value_display",
        "threshold_display",
        "first_fired_at",
        "last_evaluated_at",
        "resolved_at",
        "webhook",
    ]
    list_display_links = ["status_badge", "rule"]
    list_filter = ["status", "rule__kind", "instance__db_type", "instance", "rule"]
    search_fields = ["instance__name", "database_name", "rule__name", "message"]
    date_hierarchy = "first_fired_at"
    list_select_related = ["rule", "instance"]
    Media = CapacityCss

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        css = "capacity-status-failed" if obj.status == AlertStatus.FIRING else "capacity-status-completed"
        return format_html('<span class="capacity-status {}">{}</span>', css, obj.get_status_display())

    @admin.display(description=_("kind"), ordering="rule__kind")
    def kind(self, obj):
        return obj.rule.get_kind_display()

    @admin.display(description=_("value"), ordering="value")
    def value_display(self, obj):
        return alert_quantity(obj.value, obj.unit)

    @admin.display(description=_("threshold"))
    def threshold_display(self, obj):
        return alert_quantity(obj.threshold, obj.unit)

    @admin.display(description=_("webhook"))
    def webhook(self, obj):
        if obj.webhook_error:
            return format_html(
                '<span class="capacity-status capacity-status-failed" title="{}">{}</span>',
                obj.webhook_error,
                _("Failed"),
            )
        if obj.webhook_delivered_at:
            return format_html(
                '<span class="capacity-status capacity-status-completed">{}</span>',
                _("HTTP %(code)s") % {"code": obj.webhook_status},
            )
        return "—"
