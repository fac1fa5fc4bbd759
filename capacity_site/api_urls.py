"""Every API route under /api/: one line per app (or view module); add yours to the list."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("instances.api.urls")),
    path("", include("sync_sessions.api.urls")),
    path("", include("capacity.api.urls")),
    path("", include("alerting.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
