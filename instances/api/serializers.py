from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

from common.api.fields import MebibytesField
from common.api.rows import FlatRowsMixin
from common.field_limits import DESCRIPTION_LIMIT, FIELD_LIMITS
from common.sizefields import ByteSizeField

from .. import binding
from ..models import Credential, Instance


class CredentialSerializer(serializers.ModelSerializer):
    """A login; the password goes in and never comes back out."""

    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=1024,
        style={"input_type": "password"},
        help_text=_(
            "Stored encrypted and never returned. Leave it out to keep the stored one; an empty one clears it."
        ),
    )
    has_password = serializers.BooleanField(read_only=True)
    instance_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Credential
        fields = [
            "id",
            "name",
            "username",
            "password",
            "has_password",
            "description",
            "instance_count",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": DESCRIPTION_LIMIT}

    def create(self, validated_data):
        password = validated_data.pop("password", "")
        credential = Credential(**validated_data)
        credential.set_password(password)
        credential.save()
        return credential

    def update(self, instance, validated_data):
        if "password" in validated_data:
            instance.set_password(validated_data.pop("password"))
        return super().update(instance, validated_data)


class InstanceSerializer(FlatRowsMixin, serializers.ModelSerializer):
    """An instance as registered; capacity's API adds its latest collected total."""

    credential = serializers.PrimaryKeyRelatedField(
        queryset=Credential.objects.all(),
        allow_null=True,
        required=False,
        help_text=_(
            "Credential ID. Setting one, or changing the engine, host or port of an instance that has one, needs "
            "the permission to change credentials (instances.change_credential) and approves the new target."
        ),
    )
    # Null (always present, also in PATCH answers) for an instance without a credential.
    credential_name = serializers.CharField(source="credential.name", read_only=True, allow_null=True)
    effective_port = serializers.IntegerField(read_only=True)
    capacity_limit_bytes = ByteSizeField(
        min_value=1,
        allow_null=True,
        required=False,
        help_text=_(
            "The room this instance has, for days-until-full: bytes, or a string with a unit "
            "(50 GiB = 50 × 2³⁰, 500 GB = 500 × 10⁹). Answered in bytes."
        ),
    )
    capacity_limit_mb = MebibytesField(source="capacity_limit_bytes", allow_null=True)
    # A plain string in the schema: the record's `error_kind` already names this choice set there.
    last_sync_error_kind = serializers.CharField(
        read_only=True,
        help_text=_("Why the last collection failed: connection, timeout, auth, permission, unsupported, data."),
    )

    class Meta:
        model = Instance
        fields = [
            "id",
            "name",
            "db_type",
            "host",
            "port",
            "effective_port",
            "credential",
            "credential_name",
            "is_active",
            "options",
            "description",
            "capacity_limit_bytes",
            "capacity_limit_mb",
            "collect_tables",
            "last_connected",
            "last_sync_at",
            "last_sync_status",
            "last_sync_error",
            "last_sync_error_kind",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "last_connected",
            "last_sync_at",
            "last_sync_status",
            "last_sync_error",
            "last_sync_error_kind",
        ]
        extra_kwargs = FIELD_LIMITS

    def validate(self, attrs):
        # The model's own rules (options must be an object, Oracle needs a service name or SID).
        candidate = Instance(**{**self._current_values(), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        attrs["options"] = candidate.options
        # Where a stored password goes is for credential managers to decide (instances.binding).
        denial = binding.write_denial(self._user(), self.instance, attrs)
        if denial:
            raise exceptions.PermissionDenied(denial)
        return attrs

    def create(self, validated_data):
        return self._approve(super().create(validated_data))

    def update(self, instance, validated_data):
        return self._approve(super().update(instance, validated_data))

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _approve(self, instance):
        """A write by a credential manager approves the instance's (new) target."""
        user = self._user()
        if instance.credential_id is not None and binding.may_approve(user):
            binding.approve(instance, user, note="api")
        return instance

    def _current_values(self):
        if self.instance is None:
            return {}
        return {field: getattr(self.instance, field) for field in ("name", "db_type", "host", "port", "options")}
