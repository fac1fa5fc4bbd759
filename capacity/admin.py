from django.contrib import admin
from django.db.models import Count, Q
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import admin_views
from .admin_columns import size_column
from .choices import AlertStatus, AlertUnit
from .formatting import human_bytes
from .models import (
    Alert,
    AlertRule,
    DatabaseInventory,
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    InstanceSizeStat,
    MaintenanceRun,
)
from .services.readmodels import EstimatedCountPaginator


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
        return admin_views.dashboard(self, request)

    def dashboard_history_view(self, request):
        return admin_views.dashboard_history(self, request)

    total_size = size_column("total_size_bytes", _("total size"))


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

    last_size = size_column("last_size_bytes", _("last size"))


# --- alerting ----------------------------------------------------------------------------------


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
        (_("Scope"), {"fields": ["instance", "db_type"]}),
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
        return obj.redacted_webhook_url or "—"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
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

    @admin.display(description=_("webhook"), boolean=True)
    def has_webhook(self, obj):
        return bool(obj.webhook_url)

    @admin.display(description=_("firing"), ordering="firing_count")
    def firing(self, obj):
        url = reverse("admin:capacity_alert_changelist") + f"?rule__id__exact={obj.pk}&status__exact=firing"
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
