"""Template tags of the admin pages: the capacity summary on the admin index."""

from django import template
from django.urls import reverse

from capacity.queries import fleet_summary
from common.formatting import human_bytes, human_duration, signed_bytes

register = template.Library()


@register.inclusion_tag("admin/capacity/includes/summary.html", takes_context=True)
def capacity_summary(context):
    """Instances, databases, total size and the last run with its failures, for staff who may see them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("instances.view_instance"):
        return {"show": False}
    summary = fleet_summary()
    session = summary["last_session"]
    return {
        "show": True,
        "summary": summary,
        "total_human": human_bytes(summary["total_bytes"]),
        "user_total_human": human_bytes(summary["user_total_bytes"]),
        "growth_30d_signed": signed_bytes(summary["growth_30d_bytes"]),
        "session_duration": human_duration(session.duration_seconds) if session else "",
        "can_see_dashboard": user.has_perm("capacity.view_instancesizestat"),
        "dashboard_url": reverse("admin:capacity_dashboard"),
    }
