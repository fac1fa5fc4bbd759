from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.fields import MebibytesField
from instances.choices import ErrorKind

from ..models import SyncInstanceRecord, SyncSession


class SyncInstanceRecordSerializer(serializers.ModelSerializer):
    total_size_mb = MebibytesField(source="total_size_bytes")
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    # "" while the record has not failed (the answer clients always got); the schema says so.
    error_kind = serializers.ChoiceField(
        choices=ErrorKind.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("Why the record failed; empty when it did not."),
    )

    class Meta:
        model = SyncInstanceRecord
        fields = [
            "id",
            "instance",
            "instance_name",
            "status",
            "databases_count",
            "saved_count",
            "deleted_count",
            "total_size_bytes",
            "total_size_mb",
            "error",
            "error_kind",
            "warnings",
            "started_at",
            "heartbeat_at",
            "completed_at",
            "duration_seconds",
        ]
        read_only_fields = fields


class SyncSessionSerializer(serializers.ModelSerializer):
    """A collection run with one record per instance."""

    total_size_mb = MebibytesField(source="total_size_bytes")
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    records = SyncInstanceRecordSerializer(many=True, read_only=True)

    class Meta:
        model = SyncSession
        fields = [
            "id",
            "session_id",
            "sync_type",
            "category",
            "status",
            "total_instances",
            "successful_instances",
            "failed_instances",
            "skipped_instances",
            "total_databases",
            "total_size_bytes",
            "total_size_mb",
            "started_at",
            "completed_at",
            "duration_seconds",
            "queued",
            "cancelled_at",
            "created_by",
            "records",
        ]
        read_only_fields = fields
