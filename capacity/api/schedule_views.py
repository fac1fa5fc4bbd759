"""Period aggregations, scheduler status and the retention clean-up."""

import logging

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.permissions import CanSyncCapacity
from common.api.renderers import CSVExportMixin
from instances.models import Instance

from ..models import DatabaseSizeAggregate, MaintenanceRun, PeriodType
from ..services.retention import run_retention
from ..services.status import capacity_status
from .schedule_serializers import (
    AggregationQuerySerializer,
    CapacityStatusSerializer,
    CleanupResultSerializer,
    DatabaseSizeAggregateSerializer,
)

logger = logging.getLogger(__name__)


class DatabaseSizeAggregationView(CSVExportMixin, ListAPIView):
    """Per database and period: average, largest, smallest, growth and sample count."""

    csv_filename = "database-size-aggregations"
    # For ModelViewPermissions: reading needs capacity.view_databasesizeaggregate.
    queryset = DatabaseSizeAggregate.objects.all()
    serializer_class = DatabaseSizeAggregateSerializer
    filter_backends = []  # the query string is validated by AggregationQuerySerializer
    instance: Instance | None = None
    query: dict | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Looked up only after the permission check, so ids do not leak to those who may not read.
        pk = kwargs["pk"]
        self.instance = Instance.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if self.instance is None:
            raise NotFound(_("No instance with id %(id)s.") % {"id": kwargs["pk"]})
        query = AggregationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.query = query.validated_data

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.instance is None or self.query is None:  # permission check and schema generation
            return queryset
        queryset = queryset.filter(instance=self.instance, period_type=self.query["period"])
        if "start_date" in self.query:
            queryset = queryset.filter(period_end__gte=self.query["start_date"])
        if "end_date" in self.query:
            queryset = queryset.filter(period_start__lte=self.query["end_date"])
        if "database_name" in self.query:
            queryset = queryset.filter(database_name=self.query["database_name"])
        return queryset.order_by("period_start", "database_name")

    @extend_schema(
        summary=gettext_lazy("Weekly, monthly or quarterly aggregates of an instance's databases"),
        description=gettext_lazy(
            "Weeks are ISO weeks (Monday to Sunday). The current period is included while it runs "
            "(is_current true) and is recomputed after each collection. growth_rate is in percent of the "
            "period's first size, null when that was zero."
        ),
        parameters=[
            # drf-spectacular shows the <pk> of the path as {id}.
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=gettext_lazy("Instance id")),
            OpenApiParameter("period", OpenApiTypes.STR, enum=PeriodType.values, default=PeriodType.MONTH),
            OpenApiParameter("start_date", OpenApiTypes.DATE, description=gettext_lazy("Periods ending on or after.")),
            OpenApiParameter("end_date", OpenApiTypes.DATE, description=gettext_lazy("Periods starting on or before.")),
            OpenApiParameter("database_name", OpenApiTypes.STR, description=gettext_lazy("Exact database name.")),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CapacityStatusView(APIView):
    """Last and next collection, aggregation and clean-up, and the partitions of the size history."""

    # For ModelViewPermissions: reading needs capacity.view_maintenancerun.
    queryset = MaintenanceRun.objects.all()

    @extend_schema(summary=gettext_lazy("Scheduler and partition status"), responses=CapacityStatusSerializer)
    def get(self, request):
        return Response(CapacityStatusSerializer(capacity_status()).data)


class PartitionCleanupView(APIView):
    """Remove the daily rows past CAPACITY_RETENTION_DAYS now, as the nightly job does."""

    permission_classes = [CanSyncCapacity]

    @extend_schema(
        summary=gettext_lazy("Clean up history past retention"),
        description=gettext_lazy(
            "Creates the coming months' partitions, then removes daily rows dated before the retention cut-off: "
            "whole monthly partitions on PostgreSQL, batches of rows elsewhere. Period aggregates are kept."
        ),
        request=None,
        responses=CleanupResultSerializer,
    )
    def post(self, request):
        result = run_retention()
        data = result.as_dict()
        data["success"] = True
        data["detail"] = _(
            "Removed %(db_rows)d database size rows, %(instance_rows)d instance size rows and %(table_rows)d "
            "table size rows dated before %(cutoff)s; %(partitions)d partitions dropped."
        ) % {
            "db_rows": result.database_size_rows_deleted,
            "instance_rows": result.instance_size_rows_deleted,
            "table_rows": result.table_size_rows_deleted,
            "cutoff": result.cutoff_date.isoformat(),
            "partitions": len(result.partitions_dropped) + len(result.table_partitions_dropped),
        }
        return Response(CleanupResultSerializer(data).data)
