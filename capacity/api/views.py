from django.db.models import Count, F, Window
from django.db.models.functions import FirstValue
from django.utils.translation import gettext_lazy as _
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from common.api.permissions import CanSyncCapacity
from common.api.renderers import CSVExportMixin
from instances.choices import DbType
from instances.models import Instance
from sync_sessions.choices import SyncType
from sync_sessions.models import SyncSession

from ..filtersets import InstanceDatabaseSizeStatFilterSet, InstanceSizeStatFilterSet
from ..models import DatabaseSizeStat, InstanceSizeStat
from ..queries import with_latest_size
from ..services import readmodels
from ..services.collect import start_queued_collection
from .serializers import (
    CapacityStatsSerializer,
    CollectStartedSerializer,
    DatabaseSizeStatSerializer,
    DatabaseSizeSummarySerializer,
    InstanceTotalSerializer,
)

INSTANCE_ID_PARAMETER = OpenApiParameter("instance_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class InstanceChildMixin:
    """Rows under /instances/{instance_id}/: the instance is looked up after the permission check.

    Looking it up later keeps a user without the view permission from learning which ids exist.
    """

    parent_instance: Instance | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        pk = kwargs.get("instance_id")
        self.parent_instance = Instance.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if self.parent_instance is None:
            raise NotFound(_("No instance with id %(id)s.") % {"id": pk})

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.parent_instance is None:  # permission check and schema generation: the model is enough
            return queryset
        return queryset.filter(instance=self.parent_instance)


@extend_schema_view(
    list=extend_schema(
        summary=_("Database size history"),
        description=_(
            "Newest first. Deleted databases are left out unless include_deleted=true; latest_only=true keeps "
            "the newest row of each database."
        ),
        parameters=[INSTANCE_ID_PARAMETER],
    )
)
class DatabaseSizeViewSet(CSVExportMixin, InstanceChildMixin, mixins.ListModelMixin, GenericViewSet):
    csv_filename = "database-sizes"
    queryset = DatabaseSizeStat.objects.order_by("-collected_date", "database_name")
    serializer_class = DatabaseSizeStatSerializer
    filterset_class = InstanceDatabaseSizeStatFilterSet

    @extend_schema(
        summary=_("The instance's latest total"),
        parameters=[INSTANCE_ID_PARAMETER],
        responses=InstanceTotalSerializer,
        filters=False,
    )
    @action(detail=False, filter_backends=[], pagination_class=None)
    def total(self, request, instance_id=None):
        stat = (
            InstanceSizeStat.objects.filter(instance=self.parent_instance, is_deleted=False)
            .order_by("-collected_date")
            .first()
        )
        if stat is None:
            raise NotFound(_("Instance %(name)s has not been collected yet.") % {"name": self.parent_instance.name})
        return Response(InstanceTotalSerializer(stat).data)

    @extend_schema(
        summary=_("Summary over a date range"),
        description=_(
            "The databases of the latest collection in the range (count, total, average, largest) and the "
            "instance's growth in percent from the first to the last collection in the range (null with fewer "
            "than two)."
        ),
        parameters=[
            INSTANCE_ID_PARAMETER,
            OpenApiParameter("start_date", OpenApiTypes.DATE, description=_("First day of the range.")),
            OpenApiParameter("end_date", OpenApiTypes.DATE, description=_("Last day of the range.")),
        ],
        responses=DatabaseSizeSummarySerializer,
        filters=False,
    )
    @action(detail=False, filter_backends=[], pagination_class=None)
    def summary(self, request, instance_id=None):
        params = {key: request.query_params[key] for key in ("start_date", "end_date") if key in request.query_params}
        filterset = InstanceSizeStatFilterSet(
            params, queryset=InstanceSizeStat.objects.filter(instance=self.parent_instance, is_deleted=False)
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        oldest_first = [F("collected_date").asc()]
        # One row, the last collection of the range, carrying the first one's figures and the count.
        span = (
            filterset.qs.annotate(
                first_total=Window(FirstValue("total_size_bytes"), order_by=oldest_first),
                first_date=Window(FirstValue("collected_date"), order_by=oldest_first),
                samples=Window(Count("id")),
            )
            .order_by("-collected_date")
            .values("collected_date", "total_size_bytes", "first_total", "first_date", "samples")
            .first()
        )
        cleaned = filterset.form.cleaned_data
        summary = {
            "total_databases": 0,
            "total_size_bytes": 0,
            "average_size_bytes": None,
            "largest_database": None,
            "growth_rate": None,
            "sample_count": 0,
            "start_date": cleaned.get("start_date"),
            "end_date": cleaned.get("end_date"),
        }
        if span is not None:
            sizes = list(
                DatabaseSizeStat.objects.filter(
                    instance=self.parent_instance, collected_date=span["collected_date"], is_deleted=False
                )
                .order_by("-size_bytes", "database_name")
                .values_list("database_name", "size_bytes")
            )
            total = sum(size for _name, size in sizes)
            summary.update(
                total_databases=len(sizes),
                total_size_bytes=total,
                average_size_bytes=round(total / len(sizes)) if sizes else None,
                largest_database={"database_name": sizes[0][0], "size_bytes": sizes[0][1]} if sizes else None,
                sample_count=span["samples"],
                start_date=span["first_date"],
                end_date=span["collected_date"],
            )
            if span["samples"] > 1 and span["first_total"]:
                growth = (span["total_size_bytes"] - span["first_total"]) / span["first_total"] * 100
                summary["growth_rate"] = round(growth, 2)
        return Response(DatabaseSizeSummarySerializer(summary).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("Databases as of the latest collection"),
        description=_("Deleted databases are left out unless include_deleted=true."),
        parameters=[INSTANCE_ID_PARAMETER],
    )
)
class InstanceDatabaseViewSet(CSVExportMixin, InstanceChildMixin, mixins.ListModelMixin, GenericViewSet):
    csv_filename = "databases"
    queryset = DatabaseSizeStat.objects.order_by("database_name")
    serializer_class = DatabaseSizeStatSerializer
    filterset_class = InstanceDatabaseSizeStatFilterSet

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.parent_instance is None:
            return queryset
        # The newest collection's day first (one probe), then that day's rows: a constant day is a
        # keyed read (and prunes the monthly partitions), whatever the length of the history.
        latest_date = readmodels.latest_collection_date(self.parent_instance)
        return queryset.none() if latest_date is None else queryset.filter(collected_date=latest_date)


class CapacityStatsView(APIView):
    """Fleet-wide figures from every instance's latest collection."""

    # For ModelViewPermissions: reading the figures needs capacity.view_instancesizestat.
    queryset = InstanceSizeStat.objects.all()

    @extend_schema(summary=_("Fleet-wide capacity figures"), responses=CapacityStatsSerializer)
    def get(self, request):
        instances = with_latest_size(Instance.objects.order_by()).values(
            "db_type", "is_active", "latest_total_size_bytes", "latest_database_count"
        )
        by_type = {
            value: {
                "db_type": value,
                "label": label,
                "instance_count": 0,
                "active_instance_count": 0,
                "database_count": 0,
                "total_size_bytes": 0,
            }
            for value, label in DbType.choices
        }
        collected = 0
        for row in instances:
            group = by_type.get(row["db_type"])
            if group is None:  # a db_type no longer offered: still counted, under its own name
                group = by_type.setdefault(
                    row["db_type"],
                    {
                        "db_type": row["db_type"],
                        "label": row["db_type"],
                        "instance_count": 0,
                        "active_instance_count": 0,
                        "database_count": 0,
                        "total_size_bytes": 0,
                    },
                )
            group["instance_count"] += 1
            group["active_instance_count"] += int(row["is_active"])
            if row["latest_total_size_bytes"] is not None:
                collected += 1
                group["database_count"] += row["latest_database_count"] or 0
                group["total_size_bytes"] += row["latest_total_size_bytes"]
        groups = list(by_type.values())
        # An estimate past a few thousand rows: counting every row of a long history is a full scan.
        total_records, records_exact = readmodels.estimated_count(DatabaseSizeStat.objects.all())
        last_session = (
            SyncSession.objects.order_by("-started_at", "-id")
            .values("session_id", "sync_type", "status", "started_at", "completed_at")
            .first()
        )
        stats = {
            "total_records": total_records,
            "total_records_exact": records_exact,
            "total_instances": sum(g["instance_count"] for g in groups),
            "active_instances": sum(g["active_instance_count"] for g in groups),
            "collected_instances": collected,
            "total_databases": sum(g["database_count"] for g in groups),
            "total_size_bytes": sum(g["total_size_bytes"] for g in groups),
            "last_collection_at": readmodels.latest_collected_at(),
            "last_session": last_session,
            "by_db_type": groups,
        }
        return Response(CapacityStatsSerializer(stats).data)


class CollectView(APIView):
    """Start a collection of every active instance in the background."""

    permission_classes = [CanSyncCapacity]

    @extend_schema(
        summary=_("Collect every active instance"),
        description=_(
            "Opens a sync session and queues each active instance as its own task for the task cluster; "
            "follow it at /api/sync-sessions/{session_id}/."
        ),
        request=None,
        responses={202: CollectStartedSerializer},
    )
    def post(self, request):
        # One task per instance on the broker: every qcluster works on this session.
        session = start_queued_collection(sync_type=SyncType.MANUAL, created_by=request.user)
        return Response(
            CollectStartedSerializer(session).data,
            status=status.HTTP_202_ACCEPTED,
        )
