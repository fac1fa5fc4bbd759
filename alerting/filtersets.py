"""FilterSets of alert rules and alerts, used by their API viewsets."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common.filters import BooleanFilter, DateFilter, DateRangeForm, KeyMultipleChoiceFilter
from instances.choices import DbType
from instances.models import Instance

from .choices import AlertKind, AlertStatus
from .models import Alert, AlertRule


def _instance_name_filter(field_name):
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name, to_field_name="name", queryset=Instance.objects.all(), label=_("Instance (name)")
        )
    )


class AlertRuleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    name = django_filters.CharFilter(lookup_expr="iexact", label=_("Name"))
    kind = django_filters.MultipleChoiceFilter(choices=AlertKind.choices, label=_("Kind"))
    instance_id = KeyMultipleChoiceFilter(
        field_name="instance", queryset=Instance.objects.all(), label=_("Instance (ID)")
    )
    instance = _instance_name_filter("instance__name")
    fleet_wide = BooleanFilter(field_name="instance", lookup_expr="isnull", label=_("Every active instance"))
    db_type = django_filters.MultipleChoiceFilter(choices=DbType.choices, label=_("Database type"))
    threshold_bytes = django_filters.NumberFilter(label=_("Threshold (bytes)"))
    threshold_percent = django_filters.NumberFilter(label=_("Threshold (%)"))
    threshold_days = django_filters.NumberFilter(label=_("Threshold (days)"))
    window_days = django_filters.NumberFilter(label=_("Window (days)"))
    include_system_databases = BooleanFilter(label=_("Include system databases"))
    has_webhook = BooleanFilter(method="filter_has_webhook", label=_("Has a webhook"))
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "q",
            "name",
            "kind",
            "instance_id",
            "instance",
            "fleet_wide",
            "db_type",
            "threshold_bytes",
            "threshold_percent",
            "threshold_days",
            "window_days",
            "include_system_databases",
            "has_webhook",
            "is_active",
        ]

    def filter_has_webhook(self, queryset, name, value):
        return queryset.exclude(webhook_url="") if value else queryset.filter(webhook_url="")


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AlertStatus.choices, label=_("Status"))
    rule = KeyMultipleChoiceFilter(field_name="rule", queryset=AlertRule.objects.all(), label=_("Rule (ID)"))
    rule_id = KeyMultipleChoiceFilter(field_name="rule", queryset=AlertRule.objects.all(), label=_("Rule (ID)"))
    rule_name = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="rule__name", to_field_name="name", queryset=AlertRule.objects.all(), label=_("Rule (name)")
        )
    )
    kind = django_filters.MultipleChoiceFilter(field_name="rule__kind", choices=AlertKind.choices, label=_("Kind"))
    instance_id = KeyMultipleChoiceFilter(
        field_name="instance", queryset=Instance.objects.all(), label=_("Instance (ID)")
    )
    instance = _instance_name_filter("instance__name")
    db_type = django_filters.MultipleChoiceFilter(
        field_name="instance__db_type", choices=DbType.choices, label=_("Database type")
    )
    database_name = django_filters.CharFilter(label=_("Database name"))
    start_date = DateFilter(field_name="first_fired_at", lookup_expr="date__gte", label=_("Fired from date"))
    end_date = DateFilter(field_name="first_fired_at", lookup_expr="date__lte", label=_("Fired to date"))
    webhook_status = django_filters.NumberFilter(label=_("Webhook HTTP status"))
    webhook_failed = BooleanFilter(method="filter_webhook_failed", label=_("Webhook failed"))

    class Meta:
        model = Alert
        form = DateRangeForm
        fields = [
            "id",
            "status",
            "rule",
            "rule_id",
            "rule_name",
            "kind",
            "instance_id",
            "instance",
            "db_type",
            "database_name",
            "start_date",
            "end_date",
            "webhook_status",
            "webhook_failed",
        ]

    def filter_webhook_failed(self, queryset, name, value):
        return queryset.exclude(webhook_error="") if value else queryset.filter(webhook_error="")
