from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Database capacity")
admin.site.site_title = _("Database capacity")
admin.site.index_title = _("Capacity platform")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("capacity_site.api_urls")),
]
