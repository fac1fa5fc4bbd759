"""Alert rules and alerts used to live under /admin/capacity/: bookmarks and links there still work."""

from django.http import HttpResponsePermanentRedirect
from django.urls import reverse


def old_admin_url(request, model: str, rest: str = ""):
    """/admin/capacity/<alertrule|alert>/<rest> → /admin/alerting/<model>/<rest>, query string kept."""
    target = f"{reverse('admin:index')}alerting/{model}/{rest}"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)
