from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ReadOnlyModelViewSet

from common.api.mixins import ANY_ID
from common.api.permissions import CanSyncCapacity

from ..choices import SessionStatus
from ..filtersets import SyncSessionFilterSet
from ..models import SyncSession
from ..services import cancel_session
from .serializers import SyncSessionSerializer


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("session_id", OpenApiTypes.UUID, OpenApiParameter.PATH)])
)
class SyncSessionViewSet(ReadOnlyModelViewSet):
    queryset = SyncSession.objects.select_related("created_by").prefetch_related("records")
    serializer_class = SyncSessionSerializer
    filterset_class = SyncSessionFilterSet
    lookup_field = "session_id"
    lookup_value_regex = ANY_ID

    @extend_schema(
        summary=_("Cancel a running session"),
        description=_(
            "Its pending instances are skipped; instances being collected finish or are given up "
            "after their time limit. 409 when the session is already over."
        ),
        request=None,
        responses={200: SyncSessionSerializer},
        parameters=[OpenApiParameter("session_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], permission_classes=[CanSyncCapacity], filter_backends=[])
    def cancel(self, request, session_id=None):
        session = self.get_object()
        if session.status != SessionStatus.RUNNING:
            return Response(
                {
                    "detail": _("Session %(id)s is already over (%(status)s).")
                    % {"id": session.session_id, "status": session.get_status_display()}
                },
                status=status.HTTP_409_CONFLICT,
            )
        cancel_session(session, by=request.user)
        session = self.get_queryset().get(pk=session.pk)
        return Response(self.get_serializer(session).data)
