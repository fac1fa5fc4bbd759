from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.viewsets import ModelViewSet

from common.api.mixins import ANY_ID, AnnotatedWriteMixin, AuditedWriteMixin

from ..filtersets import CredentialFilterSet, InstanceFilterSet
from ..models import Credential, Instance
from .serializers import CredentialSerializer, InstanceSerializer


class CredentialViewSet(AuditedWriteMixin, AnnotatedWriteMixin, ModelViewSet):
    queryset = Credential.objects.annotate(instance_count=Count("instances")).order_by("name")
    serializer_class = CredentialSerializer
    filterset_class = CredentialFilterSet
    lookup_value_regex = ANY_ID


@extend_schema_view(
    destroy=extend_schema(description=_("Delete an instance and all of its collected history.")),
)
class InstanceViewSet(AuditedWriteMixin, AnnotatedWriteMixin, ModelViewSet):
    """CRUD of instances. The site routes capacity's subclass (latest sizes, collect, test) at /api/instances/."""

    queryset = Instance.objects.select_related("credential").order_by("name")
    serializer_class = InstanceSerializer
    filterset_class = InstanceFilterSet
    lookup_value_regex = ANY_ID
