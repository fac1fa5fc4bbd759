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
from instances import binding, services
from instances.api.views import InstanceViewSet
from instances.choices import ErrorKind
from instances.engines import ConnectionTestResult
from instances.models import Instance
from sync_sessions.choices import RecordStatus

from ..queries import with_latest_size
from ..services.collect import collect
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
        instance = self.get_object()
        if instance.credential_id is None:
            return Response(
                {
                    "success": False,
                    "server_version": "",
                    "error": _("Instance %(name)s has no credential to connect with.") % {"name": instance.name},
                    "error_kind": ErrorKind.AUTH.value,
                    "elapsed_ms": 0,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        denial = binding.approval_denial(instance)
        if denial:
            # A refused attempt is recorded too: who tried to reach a target nobody approved.
            services.record_connection_test(
                instance,
                ConnectionTestResult(success=False, error=denial, error_kind=ErrorKind.PERMISSION),
                user=request.user,
            )
            return Response(
                {
                    "success": False,
                    "server_version": "",
                    "error": denial,
                    "error_kind": ErrorKind.PERMISSION.value,
                    "elapsed_ms": 0,
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        result = services.test_connection(instance, user=request.user)
        body = ConnectionTestSerializer(result).data
        return Response(body, status=status.HTTP_200_OK if result.success else status.HTTP_502_BAD_GATEWAY)

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
        instance = self.get_object()
        if not instance.is_active:
            return Response(
                {"success": False, "error": _("Instance %(name)s is inactive.") % {"name": instance.name}},
                status=status.HTTP_409_CONFLICT,
            )
        if instance.credential_id is None:
            return Response(
                {
                    "success": False,
                    "error": _("Instance %(name)s has no credential to connect with.") % {"name": instance.name},
                    "error_kind": ErrorKind.AUTH.value,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        denial = binding.approval_denial(instance)
        if denial:
            return Response(
                {"success": False, "error": denial, "error_kind": ErrorKind.PERMISSION.value},
                status=status.HTTP_403_FORBIDDEN,
            )
        session = collect([instance], created_by=request.user)
        record = session.records.get()
        if record.status == RecordStatus.COMPLETED:
            return Response(
                {
                    "success": True,
                    "session_id": session.session_id,
                    "databases_count": record.databases_count,
                    "saved_count": record.saved_count,
                    "total_size_bytes": record.total_size_bytes,
                    "total_size_mb": to_mib(record.total_size_bytes),
                }
            )
        failure = {
            "success": False,
            "error": record.error or _("The collection did not complete."),
            "error_kind": record.error_kind,
            "session_id": session.session_id,
        }
        if record.status == RecordStatus.SKIPPED:
            return Response(failure, status=status.HTTP_409_CONFLICT)
        return Response(failure, status=status.HTTP_502_BAD_GATEWAY)
