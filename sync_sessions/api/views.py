from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.viewsets import ReadOnlyModelViewSet

from common.api.mixins import ANY_ID

from ..filtersets import SyncSessionFilterSet
from ..models import SyncSession
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
