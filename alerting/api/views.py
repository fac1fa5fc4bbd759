"""/api/alert-rules/ and /api/alerts/: threshold rules and the alerts they raised."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.viewsets import ModelViewSet, ReadOnlyModelViewSet

from common.api.mixins import ANY_ID, AnnotatedWriteMixin, AuditedWriteMixin

from ..choices import AlertStatus
from ..filtersets import AlertFilterSet, AlertRuleFilterSet
from ..models import Alert, AlertRule
from .serializers import AlertRuleSerializer, AlertSerializer


@extend_schema_view(
    list=extend_schema(summary=_("Alert rules")),
    create=extend_schema(
        summary=_("Add an alert rule"),
        description=_(
            "kind total_size and database_size need threshold_bytes, growth_percent needs threshold_percent "
            "(growth over window_days), days_until_full needs threshold_days (the forecast over window_days, "
            "at least 7, against the instance's capacity_limit_bytes). instance null: every active instance. "
            "Rules are evaluated after every collection."
        ),
    ),
    retrieve=extend_schema(summary=_("An alert rule")),
    update=extend_schema(summary=_("Replace an alert rule")),
    partial_update=extend_schema(summary=_("Change an alert rule")),
    destroy=extend_schema(summary=_("Delete an alert rule and its alerts")),
)
class AlertRuleViewSet(AuditedWriteMixin, AnnotatedWriteMixin, ModelViewSet):
    queryset = (
        AlertRule.objects.select_related("instance")
        .annotate(firing_count=Count("alerts", filter=Q(alerts__status=AlertStatus.FIRING)))
        .order_by("name")
    )
    serializer_class = AlertRuleSerializer
    filterset_class = AlertRuleFilterSet
    lookup_value_regex = ANY_ID


@extend_schema_view(
    list=extend_schema(
        summary=_("Alerts"),
        description=_("Newest first. One alert per rule, instance and database is firing at a time."),
    ),
    retrieve=extend_schema(summary=_("An alert")),
)
class AlertViewSet(ReadOnlyModelViewSet):
    queryset = Alert.objects.select_related("rule", "instance").order_by("-first_fired_at", "-id")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    lookup_value_regex = ANY_ID
