from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.fields import MebibytesField
from common.api.rows import FlatRowsMixin
from instances.api.serializers import InstanceSerializer as BaseInstanceSerializer
from instances.choices import DbType

from ..models import DatabaseSizeStat, InstanceSizeStat, TableSizeStat


class DatabaseSizeStatSerializer(FlatRowsMixin, serializers.ModelSerializer):
    """One database's size on one day, in bytes with MiB twins."""

    size_mb = MebibytesField(source="size_bytes")
    data_size_mb = MebibytesField(source="data_size_bytes")
    index_size_mb = MebibytesField(source="index_size_bytes", allow_null=True)
    log_size_mb = MebibytesField(source="log_size_bytes", allow_null=True)
    allocated_size_mb = MebibytesField(source="allocated_size_bytes", allow_null=True)
    is_system = serializers.BooleanField(
        read_only=True,
        default=False,
        help_text=_("One of the engine's own databases (information_schema, mysql, master, postgres, SYSTEM, …)."),
    )

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
            "allocated_size_bytes",
            "allocated_size_mb",
            "collected_date",
            "collected_at",
            "is_deleted",
            "deleted_at",
            "is_system",
            "is_carried_over",
        ]
        read_only_fields = fields


class TableSizeStatSerializer(serializers.ModelSerializer):
    """One table's size on one day; the "other tables" row has null names and `table_count` tables."""

    schema_name = serializers.SerializerMethodField()
    table_name = serializers.SerializerMethodField()
    data_size_mb = MebibytesField(source="data_size_bytes")
    index_size_mb = MebibytesField(source="index_size_bytes")
    lob_size_mb = MebibytesField(source="lob_size_bytes", allow_null=True)
    total_size_mb = MebibytesField(source="total_size_bytes")

    class Meta:
        model = TableSizeStat
        fields = [
            "database_name",
            "schema_name",
            "table_name",
            "is_other",
            "table_count",
            "rows_estimate",
            "data_size_bytes",
            "data_size_mb",
            "index_size_bytes",
            "index_size_mb",
            "lob_size_bytes",
            "lob_size_mb",
            "total_size_bytes",
            "total_size_mb",
            "collected_date",
            "collected_at",
        ]
        read_only_fields = fields

    def get_schema_name(self, obj) -> str | None:
        return None if obj.is_other else obj.schema_name

    def get_table_name(self, obj) -> str | None:
        return None if obj.is_other else obj.table_name


USER_TOTAL_HELP = _(
    "The same without the engine's system databases (information_schema, mysql, master, postgres, SYSTEM, …); "
    "null when not known."
)


class InstanceTotalSerializer(serializers.ModelSerializer):
    """An instance's total on its latest collection."""

    instance_id = serializers.IntegerField(read_only=True)
    total_size_mb = MebibytesField(source="total_size_bytes")
    user_total_size_bytes = serializers.IntegerField(read_only=True, allow_null=True, help_text=USER_TOTAL_HELP)
    user_total_size_mb = MebibytesField(source="user_total_size_bytes", allow_null=True)
    user_database_count = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = InstanceSizeStat
        fields = [
            "instance_id",
            "total_size_bytes",
            "total_size_mb",
            "database_count",
            "user_total_size_bytes",
            "user_total_size_mb",
            "user_database_count",
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


class InstanceSerializer(BaseInstanceSerializer):
    """An instance with its latest collected total (annotated by the viewset, never one query per row)."""

    latest_total_size_bytes = serializers.IntegerField(read_only=True, allow_null=True)
    latest_total_size_mb = MebibytesField(source="latest_total_size_bytes", allow_null=True)
    latest_database_count = serializers.IntegerField(read_only=True, allow_null=True)
    latest_user_total_size_bytes = serializers.IntegerField(read_only=True, allow_null=True, help_text=USER_TOTAL_HELP)
    latest_user_total_size_mb = MebibytesField(source="latest_user_total_size_bytes", allow_null=True)
    latest_user_database_count = serializers.IntegerField(read_only=True, allow_null=True)
    latest_collected_date = serializers.DateField(read_only=True, allow_null=True)

    class Meta(BaseInstanceSerializer.Meta):
        fields = [
            *BaseInstanceSerializer.Meta.fields[: BaseInstanceSerializer.Meta.fields.index("last_connected")],
            "latest_total_size_bytes",
            "latest_total_size_mb",
            "latest_database_count",
            "latest_user_total_size_bytes",
            "latest_user_total_size_mb",
            "latest_user_database_count",
            "latest_collected_date",
            *BaseInstanceSerializer.Meta.fields[BaseInstanceSerializer.Meta.fields.index("last_connected") :],
        ]


class InstanceTotalSizeSerializer(serializers.Serializer):
    """One instance's latest collected total."""

    instance_id = serializers.IntegerField(source="pk")
    instance_name = serializers.CharField(source="name")
    db_type = serializers.CharField()
    is_active = serializers.BooleanField()
    total_size_bytes = serializers.IntegerField(source="latest_total_size_bytes", allow_null=True)
    total_size_mb = MebibytesField(source="latest_total_size_bytes", allow_null=True)
    database_count = serializers.IntegerField(source="latest_database_count", allow_null=True)
    user_total_size_bytes = serializers.IntegerField(
        source="latest_user_total_size_bytes", allow_null=True, help_text=USER_TOTAL_HELP
    )
    user_total_size_mb = MebibytesField(source="latest_user_total_size_bytes", allow_null=True)
    user_database_count = serializers.IntegerField(source="latest_user_database_count", allow_null=True)
    collected_date = serializers.DateField(source="latest_collected_date", allow_null=True)


class ConnectionTestSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    server_version = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    error_kind = serializers.CharField(allow_blank=True)
    elapsed_ms = serializers.IntegerField()


class SyncCapacityResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    session_id = serializers.UUIDField()
    databases_count = serializers.IntegerField()
    saved_count = serializers.IntegerField()
    total_size_bytes = serializers.IntegerField()
    total_size_mb = MebibytesField(source="total_size_bytes")


class SyncCapacityFailureSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.CharField()
    error_kind = serializers.CharField(required=False, allow_blank=True)
    session_id = serializers.UUIDField(required=False, allow_null=True)
