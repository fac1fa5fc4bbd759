from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from instances.choices import DbType

from ..models import DatabaseSizeStat, InstanceSizeStat
from .fields import MebibytesField


class DatabaseSizeStatSerializer(serializers.ModelSerializer):
    """One database's size on one day, in bytes with MiB twins."""

    size_mb = MebibytesField(source="size_bytes")
    data_size_mb = MebibytesField(source="data_size_bytes")
    index_size_mb = MebibytesField(source="index_size_bytes", allow_null=True)
    log_size_mb = MebibytesField(source="log_size_bytes", allow_null=True)

    class Meta:
        model = DatabaseSizeStat
        fields = [
            "id",
            "instance",
            "database_name",
            "size_bytes",
            "size_mb",
            "data_size_bytes",
            "data_size_mb",
            "index_size_bytes",
            "index_size_mb",
            "log_size_bytes",
            "log_size_mb",
            "collected_date",
            "collected_at",
            "is_deleted",
            "deleted_at",
        ]
        read_only_fields = fields


class InstanceTotalSerializer(serializers.ModelSerializer):
    """An instance's total on its latest collection."""

    instance_id = serializers.IntegerField(read_only=True)
    total_size_mb = MebibytesField(source="total_size_bytes")

    class Meta:
        model = InstanceSizeStat
        fields = [
            "instance_id",
            "total_size_bytes",
            "total_size_mb",
            "database_count",
            "collected_date",
            "collected_at",
        ]
        read_only_fields = fields


class LargestDatabaseSerializer(serializers.Serializer):
    database_name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    size_mb = MebibytesField(source="size_bytes")


class DatabaseSizeSummarySerializer(serializers.Serializer):
    """The databases of the latest collection in the range, and the instance's growth over it."""

    total_databases = serializers.IntegerField()
    total_size_bytes = serializers.IntegerField()
    total_size_mb = MebibytesField(source="total_size_bytes")
    average_size_bytes = serializers.IntegerField(allow_null=True)
    average_size_mb = MebibytesField(source="average_size_bytes", allow_null=True)
    largest_database = LargestDatabaseSerializer(allow_null=True)
    growth_rate = serializers.FloatField(
        allow_null=True,
        help_text=_("Percent change of the instance total from the first to the last collection in the range."),
    )
    sample_count = serializers.IntegerField(help_text=_("Collections in the range."))
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)


class DbTypeStatsSerializer(serializers.Serializer):
    db_type = serializers.ChoiceField(choices=DbType.choices)
    label = serializers.CharField()
    instance_count = serializers.IntegerField()
    active_instance_count = serializers.IntegerField()
    database_count = serializers.IntegerField()
    total_size_bytes = serializers.IntegerField()
    total_size_mb = MebibytesField(source="total_size_bytes")


class LastSessionSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    sync_type = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class CapacityStatsSerializer(serializers.Serializer):
    total_records = serializers.IntegerField(
        help_text=_(
            "Database size rows kept: exact up to 10,000, the database's estimate beyond (see total_records_exact)."
        )
    )
    total_records_exact = serializers.BooleanField(help_text=_("False when total_records is an estimate."))
    total_instances = serializers.IntegerField()
    active_instances = serializers.IntegerField()
    collected_instances = serializers.IntegerField(help_text=_("Instances collected at least once."))
    total_databases = serializers.IntegerField(help_text=_("Databases on every instance's latest collection."))
    total_size_bytes = serializers.IntegerField()
    total_size_mb = MebibytesField(source="total_size_bytes")
    last_collection_at = serializers.DateTimeField(allow_null=True)
    last_session = LastSessionSerializer(allow_null=True)
    by_db_type = DbTypeStatsSerializer(many=True)


class CollectStartedSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    total_instances = serializers.IntegerField()
