"""Serializers of the aggregation, status and clean-up endpoints."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.fields import MebibytesField

from ..models import DatabaseSizeAggregate, PeriodType


class DatabaseSizeAggregateSerializer(serializers.ModelSerializer):
    instance_id = serializers.IntegerField(read_only=True)
    growth_rate = serializers.SerializerMethodField(help_text=_("Growth over the period in percent of its first size."))
    is_current = serializers.BooleanField(read_only=True, help_text=_("True while the period is still running."))
    avg_size_mb = MebibytesField(source="avg_size_bytes")
    max_size_mb = MebibytesField(source="max_size_bytes")
    min_size_mb = MebibytesField(source="min_size_bytes")
    first_size_mb = MebibytesField(source="first_size_bytes")
    last_size_mb = MebibytesField(source="last_size_bytes")
    growth_mb = MebibytesField(source="growth_bytes")

    class Meta:
        model = DatabaseSizeAggregate
        fields = [
            "instance_id",
            "database_name",
            "period_type",
            "period_start",
            "period_end",
            "avg_size_bytes",
            "max_size_bytes",
            "min_size_bytes",
            "first_size_bytes",
            "last_size_bytes",
            "growth_bytes",
            "growth_rate",
            "sample_count",
            "first_date",
            "last_date",
            "is_complete",
            "is_current",
            "avg_size_mb",
            "max_size_mb",
            "min_size_mb",
            "first_size_mb",
            "last_size_mb",
            "growth_mb",
        ]
        read_only_fields = fields

    def get_growth_rate(self, obj) -> float | None:
        return None if obj.growth_rate is None else round(obj.growth_rate, 2)


class AggregationQuerySerializer(serializers.Serializer):
    """The query string of the aggregation endpoint."""

    period = serializers.CharField(required=False, default=PeriodType.MONTH)
    start_date = serializers.DateField(required=False, help_text=_("Periods that end on or after this day."))
    end_date = serializers.DateField(required=False, help_text=_("Periods that start on or before this day."))
    database_name = serializers.CharField(required=False, help_text=_("One database, by exact name."))

    def validate_period(self, value):
        if value not in PeriodType.values:
            raise serializers.ValidationError(
                _("Unknown period '%(period)s': use one of %(choices)s.")
                % {"period": value, "choices": ", ".join(PeriodType.values)}
            )
        return value

    def validate(self, attrs):
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and start > end:
            raise serializers.ValidationError({"end_date": _("end_date must not be before start_date.")})
        return attrs


class ScheduleStateSerializer(serializers.Serializer):
    name = serializers.CharField()
    func = serializers.CharField()
    cron = serializers.CharField()
    scheduled = serializers.BooleanField(help_text=_("False until `migrate` has written the schedule."))
    paused = serializers.BooleanField(help_text=_("Paused in the admin (repeats set to 0)."))
    next_run = serializers.DateTimeField(allow_null=True)


class MaintenanceRunSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    success = serializers.BooleanField(allow_null=True, help_text=_("Null while the job runs."))
    summary = serializers.DictField()
    error = serializers.CharField(allow_blank=True)


class SessionBriefSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    sync_type = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    total_instances = serializers.IntegerField()
    successful_instances = serializers.IntegerField()
    failed_instances = serializers.IntegerField()
    skipped_instances = serializers.IntegerField()
    total_size_bytes = serializers.IntegerField()


class CollectionStatusSerializer(serializers.Serializer):
    schedule = ScheduleStateSerializer()
    last_session = SessionBriefSerializer(allow_null=True)
    last_scheduled_session = SessionBriefSerializer(allow_null=True)


class AggregationStatusSerializer(serializers.Serializer):
    schedule = ScheduleStateSerializer()
    last_run = MaintenanceRunSerializer(allow_null=True)


class RetentionStatusSerializer(serializers.Serializer):
    schedule = ScheduleStateSerializer()
    retention_days = serializers.IntegerField()
    cutoff_date = serializers.DateField(help_text=_("Daily rows dated before this day are removed."))
    last_run = MaintenanceRunSerializer(allow_null=True)


class PartitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True, help_text=_("Exclusive."))
    is_default = serializers.BooleanField()
    estimated_rows = serializers.IntegerField()


class NextPartitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    start = serializers.DateField()
    due = serializers.DateField(help_text=_("The day the nightly job creates it."))


class PartitionStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    vendor = serializers.CharField()
    detail = serializers.CharField()
    partitions = PartitionSerializer(many=True)
    table_size_partitions = PartitionSerializer(many=True, help_text=_("The table size history's partitions."))
    next_to_create = NextPartitionSerializer(allow_null=True)
    months_ahead = serializers.IntegerField()


class TaskQueueSerializer(serializers.Serializer):
    broker = serializers.CharField()
    queued_tasks = serializers.IntegerField(allow_null=True)
    pending_instances = serializers.IntegerField(help_text=_("Instances of queued sessions not started yet."))
    clusters_running = serializers.IntegerField(
        allow_null=True, help_text=_("Clusters seen through the broker's stats (Redis only).")
    )
    scheduler_seen_at = serializers.DateTimeField(allow_null=True)
    cluster_running = serializers.BooleanField()
    warning = serializers.CharField(allow_null=True)


class CapacityStatusSerializer(serializers.Serializer):
    collection = CollectionStatusSerializer()
    aggregation = AggregationStatusSerializer()
    retention = RetentionStatusSerializer()
    partitions = PartitionStateSerializer()
    task_queue = TaskQueueSerializer()


class DroppedPartitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    start = serializers.DateField(allow_null=True)
    rows = serializers.IntegerField()


class CleanupResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    detail = serializers.CharField()
    retention_days = serializers.IntegerField()
    cutoff_date = serializers.DateField()
    method = serializers.ChoiceField(choices=[("partitions", _("Partitions dropped")), ("rows", _("Rows deleted"))])
    database_size_rows_deleted = serializers.IntegerField()
    instance_size_rows_deleted = serializers.IntegerField()
    partitions_dropped = DroppedPartitionSerializer(many=True)
    partitions_created = serializers.ListField(child=serializers.CharField())
    table_size_rows_deleted = serializers.IntegerField(help_text=_("Table size rows removed."))
    table_partitions_dropped = DroppedPartitionSerializer(many=True)
    table_partitions_created = serializers.ListField(child=serializers.CharField())
