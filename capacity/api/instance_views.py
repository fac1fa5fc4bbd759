"""/api/instances/: instances' CRUD viewset plus the latest sizes, the total-sizes list, and the
test-connection and sync-capacity actions (same paths as always; routed in capacity/api/urls.py)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.permissions import CanSyncCapacity
from common.api.renderers import CSVExportMixin
from common.formatting import to_mib
from instances import services
from instances.api.views import InstanceViewSet
from instances.models import Instance
from instances.services import ConnectionOutcome

from ..queries import with_latest_size
from ..services.sync_one import SyncOutcome, sync_instance
from .serializers import (
    ConnectionTestSerializer,
    InstanceSerializer,
    InstanceTotalSizeSerializer,
    SyncCapacityFailureSerializer,
    SyncCapacityResultSerializer,
)


@extend_schema_view(
    destroy=extend_schema(description=_("Delete an instance and all of its collected history.")),
)
class InstanceCapacityViewSet(CSVExportMixin, InstanceViewSet):
    queryset = with_latest_size(Instance.objects.select_related("credential")).order_by("name")
    serializer_class = InstanceSerializer
    csv_actions = ("total_sizes",)
    csv_filename = "instance-total-sizes"

    # How each outcome of the shared services answers over HTTP.
    CONNECTION_STATUS = {
        ConnectionOutcome.CONNECTED: status.HTTP_200_OK,
        ConnectionOutcome.FAILED: status.HTTP_502_BAD_GATEWAY,
        ConnectionOutcome.NO_CREDENTIAL: status.HTTP_400_BAD_REQUEST,
        ConnectionOutcome.DENIED: status.HTTP_403_FORBIDDEN,
    }
    SYNC_STATUS = {
        SyncOutcome.SKIPPED: status.HTTP_409_CONFLICT,
        SyncOutcome.FAILED: status.HTTP_502_BAD_GATEWAY,
        SyncOutcome.INACTIVE: status.HTTP_409_CONFLICT,
        SyncOutcome.NO_CREDENTIAL: status.HTTP_400_BAD_REQUEST,
        SyncOutcome.DENIED: status.HTTP_403_FORBIDDEN,
    }

    @extend_schema(
        summary=_("Every instance's latest total"),
        responses=InstanceTotalSizeSerializer(many=True),
    )
    @action(detail=False, url_path="total-sizes", serializer_class=InstanceTotalSizeSerializer)
    def total_sizes(self, request):
        queryset = self.filter_queryset(with_latest_size(Instance.objects.all()).order_by("name"))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary=_("Test the connection"),
        description=_(
            "Connect, read the server version and close. 502 when the server cannot be reached or refuses "
            "the login; 400 when the instance has no credential; 403 when its credential is not approved "
            "for the instance's engine, host and port."
        ),
        request=None,
        responses={
            200: ConnectionTestSerializer,
            400: ConnectionTestSerializer,
            403: ConnectionTestSerializer,
            502: ConnectionTestSerializer,
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="test-connection",
        permission_classes=[CanSyncCapacity],
        filter_backends=[],
    )
    def test_connection(self, request, pk=None):
        outcome = services.check_connection(self.get_object(), user=request.user)
        return Response(ConnectionTestSerializer(outcome.result).data, status=self.CONNECTION_STATUS[outcome.status])

    @extend_schema(
        summary=_("Collect this instance now"),
        description=_(
            "Runs one collection of this instance in the request (one sync session). 409 when the "
            "instance is inactive or another run is collecting it, 400 when it has no credential, 403 when its "
            "credential is not approved for its engine, host and port, 502 when the server cannot be reached or "
            "the collection fails."
        ),
        request=None,
        responses={
            200: SyncCapacityResultSerializer,
            400: SyncCapacityFailureSerializer,
            403: SyncCapacityFailureSerializer,
            409: SyncCapacityFailureSerializer,
            502: SyncCapacityFailureSerializer,
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="sync-capacity",
        permission_classes=[CanSyncCapacity],
        filter_backends=[],
    )
    def sync_capacity(self, request, pk=None):
        outcome = sync_instance(self.get_object(), request.user)
        if outcome.success:
            record = outcome.record
            return Response(
                {
                    "success": True,
                    "session_id": outcome.session.session_id,
                    "databases_count": record.databases_count,
                    "saved_count": record.saved_count,
                    "total_size_bytes": record.total_size_bytes,
                    "total_size_mb": to_mib(record.total_size_bytes),
                }
            )
        failure = {"success": False, "error": outcome.message}
        if outcome.kind or outcome.session is not None:
            failure["error_kind"] = outcome.kind
        if outcome.session is not None:
            failure["session_id"] = outcome.session.session_id
        return Response(failure, status=self.SYNC_STATUS[outcome.status])
