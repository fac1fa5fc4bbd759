"""URLs of alerting outside the admin and the API: redirects from the pages' old addresses.

The site mounts `legacy_admin_urlpatterns` before the admin's own."""

from django.urls import re_path

from .views.legacy import old_admin_url

legacy_admin_urlpatterns = [
    re_path(r"^admin/capacity/(?P<model>alertrule|alert)/(?P<rest>.*)$", old_admin_url),
]
