"""Alert rules (read and write) and the alerts they raised (read only)."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import MebibytesField
from common.sizefields import ByteSizeField
from common.validators import validate_webhook_url
from instances.models import Instance

from ..choices import THRESHOLD_FIELD, AlertUnit
from ..models import Alert, AlertRule


@extend_schema_field(OpenApiTypes.NUMBER)
class ExactNumberField(serializers.Field):
    """A stored decimal as a JSON number: whole values (bytes, days) stay exact integers."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal):
        return int(value) if value == value.to_integral_value() else float(value)


class AlertRuleSerializer(serializers.ModelSerializer):
    instance = serializers.PrimaryKeyRelatedField(
        queryset=Instance.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Instance ID; null for every active instance."),
    )
    # Null on a fleet-wide rule, and present in every answer (a default would drop it from PATCH answers).
    instance_name = serializers.CharField(source="instance.name", read_only=True, allow_null=True)
    threshold_percent = serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0.01"),
        allow_null=True,
        required=False,
        coerce_to_string=False,
        help_text=_("Growth percent rules: fire when the instance total grew at least this much over the window."),
    )
    threshold_bytes = ByteSizeField(
        min_value=1,
        allow_null=True,
        required=False,
        help_text=_(
            "Total size and database size rules: fire at or above this size; bytes, or a string with a unit "
            "(50 GiB, 500 GB). Answered in bytes."
        ),
    )
    threshold_mb = MebibytesField(source="threshold_bytes", allow_null=True)
    # A plain string checked by the model's validator: DRF's own URL field would also take ftp://.
    webhook_url = serializers.CharField(
        max_length=500,
        allow_blank=True,
        required=False,
        validators=[validate_webhook_url],
        help_text=_(
            "Receives every alert of this rule as JSON when it fires and when it resolves (http or https). "
            "Shown in full only to those who may change rules."
        ),
    )
    webhook_status = serializers.SerializerMethodField(
        help_text=_(
            '"" without a webhook, "ok", or "invalid: …" when the stored URL would not be sent to (an '
            "address now refused, a port out of range). Host names are resolved only when saving and delivering."
        )
    )
    unit = serializers.ChoiceField(choices=AlertUnit.choices, read_only=True)
    firing_count = serializers.IntegerField(read_only=True, help_text=_("Alerts of this rule firing now."))

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "kind",
            "instance",
            "instance_name",
            "db_type",
            "threshold_bytes",
            "threshold_mb",
            "threshold_percent",
            "threshold_days",
            "window_days",
            "unit",
            "include_system_databases",
            "webhook_url",
            "webhook_status",
            "is_active",
            "firing_count",
            "created_at",
            "updated_at",
        ]

    def get_webhook_status(self, rule) -> str:
        if not rule.webhook_url:
            return ""
        problem = rule.webhook_problem
        return _("invalid: %(reason)s") % {"reason": problem} if problem else "ok"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Who may only read rules sees where the webhook goes, not its (often secret-bearing) path.
        request = self.context.get("request")
        if data.get("webhook_url") and not (request and request.user.has_perm("alerting.change_alertrule")):
            data["webhook_url"] = instance.redacted_webhook_url
        return data

    def validate(self, attrs):
        # The model's own rules: the kind's threshold, the days-until-full window and limit, the scope.
        current = self.instance
        candidate = AlertRule(
            **({f.attname: getattr(current, f.attname) for f in AlertRule._meta.concrete_fields} if current else {})
        )
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        # clean() clears the thresholds the kind does not use; keep that.
        for name in set(THRESHOLD_FIELD.values()):
            attrs[name] = getattr(candidate, name)
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    kind = serializers.CharField(source="rule.kind", read_only=True, help_text=_("The rule's kind."))
    instance_name = serializers.CharField(source="instance.name", read_only=True)
    db_type = serializers.CharField(source="instance.db_type", read_only=True)
    value = ExactNumberField(help_text=_("Bytes, percent or days: see unit."))
    threshold = ExactNumberField(help_text=_("The rule's threshold when the alert was last evaluated."))
    unit = serializers.ChoiceField(choices=AlertUnit.choices, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "kind",
            "instance",
            "instance_name",
            "db_type",
            "database_name",
            "status",
            "value",
            "threshold",
            "unit",
            "message",
            "first_fired_at",
            "last_evaluated_at",
            "resolved_at",
            "webhook_status",
            "webhook_error",
            "webhook_delivered_at",
        ]
        read_only_fields = fields
