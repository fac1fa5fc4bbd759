from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView

from alerting.urls import legacy_admin_urlpatterns
from capacity.metrics import metrics_view

admin.site.site_header = gettext_lazy("Database capacity")
admin.site.site_title = gettext_lazy("Database capacity")
admin.site.index_title = gettext_lazy("Capacity platform")


def api_not_found(request, path=""):
    """API clients get JSON for an unknown path, not Django's HTML page."""
    return JsonResponse({"detail": _("No API endpoint at /api/%(path)s.") % {"path": path}}, status=404)


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    *legacy_admin_urlpatterns,
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("metrics", metrics_view, name="metrics"),
    path("api/", include("capacity_site.api_urls")),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
]
