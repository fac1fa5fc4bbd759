"""API permissions: the model's Django permissions, with `view` required for reading."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission, DjangoModelPermissions, IsAuthenticated


class ModelViewPermissions(DjangoModelPermissions):
    """DjangoModelPermissions that also asks for `view_<model>` on GET/HEAD/OPTIONS."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class CanSyncCapacity(BasePermission):
    """Collecting, testing connections and cleaning up need `instances.sync_capacity`."""

    message = _("You need the 'instances.sync_capacity' permission to do this.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("instances.sync_capacity"))


class ApiDocsPermission(IsAuthenticated):
    """/api/schema/ and /api/docs/: whoever the API authenticates; everyone when API_DOCS_PUBLIC is on."""

    def has_permission(self, request, view):
        return bool(settings.API_DOCS_PUBLIC) or super().has_permission(request, view)
