"""The per-row buttons of the instance admin (collect now, test the connection), answering in JSON."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.badges import choice_label, status_badge
from common.formatting import human_bytes, local_datetime, signed_bytes
from instances.choices import ErrorKind
from instances.models import Instance
from instances.services import test_connection
from sync_sessions.choices import RecordStatus, SyncType

from ..queries import annotate_instance_capacity

# --- shared view plumbing ----------------------------------------------------------------------


def json_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"success": False, "error": str(message), **extra}, status=status)


def action_strings() -> dict:
    """The words the buttons' script shows, translated here so the script holds none."""
    return {
        "working": _("Working…"),
        "failed": _("The request failed."),
        "network": _("The server could not be reached."),
        "badResponse": _("Unexpected answer from the server (HTTP %(status)s)."),
        "historyOf": _("Size history of %(name)s"),
        # a chart tooltip's "label: value"
        "labelValue": _("%(label)s: %(value)s"),
    }


def _instance_or_404(model_admin, request, object_id) -> Instance:
    instance = model_admin.get_object(request, object_id)
    if instance is None:
        raise Http404(_("No instance with id %(id)s.") % {"id": object_id})
    return instance


def _require_sync_permission(request):
    if not request.user.has_perm("instances.sync_capacity"):
        return json_error(_("You do not have permission to collect capacity or test connections."), 403)
    if request.method != "POST":
        response = json_error(_("Use POST."), 405)
        response["Allow"] = "POST"
        return response
    return None


def instance_fields(instance_id: int) -> dict:
    """The list/page cells the buttons refresh after acting, as the page would render them."""
    instance = annotate_instance_capacity(Instance.objects.filter(pk=instance_id)).get()
    label, css = status_badge(instance.last_sync_status)
    return {
        "total": human_bytes(instance.latest_total_bytes),
        "databases": "—" if instance.latest_db_count is None else str(instance.latest_db_count),
        "growth7": signed_bytes(instance.growth_7d_bytes),
        "growth30": signed_bytes(instance.growth_30d_bytes),
        "last_sync_at": local_datetime(instance.last_sync_at),
        "last_connected": local_datetime(instance.last_connected),
        "status": label,
        "status_class": css,
        "status_title": (
            _("%(kind)s: %(error)s")
            % {"kind": instance.get_last_sync_error_kind_display(), "error": instance.last_sync_error}
            if instance.last_sync_error
            else ""
        ),
    }


# --- per-row actions (JSON) --------------------------------------------------------------------


def instance_sync_capacity(model_admin, request, object_id):
    """Collect one instance now through the one collection path; answer in JSON for the list's button."""
    refused = _require_sync_permission(request)
    if refused:
        return refused
    try:
        instance = _instance_or_404(model_admin, request, object_id)
    except Http404 as exc:
        return json_error(str(exc), 404)
    if not instance.is_active:
        return json_error(_("%(name)s is inactive; activate it to collect its capacity.") % {"name": instance}, 400)
    if instance.credential_id is None:
        return json_error(_("%(name)s has no credential to log in with.") % {"name": instance}, 400)

    from ..services.collect import collect

    session = collect([instance], sync_type=SyncType.MANUAL, created_by=request.user)
    record = session.records.get()
    body = {
        "session_id": str(session.session_id),
        "session_url": reverse("admin:sync_sessions_syncsession_change", args=[session.pk]),
        "fields": instance_fields(instance.pk),
    }
    if record.status == RecordStatus.COMPLETED:
        message = ngettext(
            "%(name)s: %(count)s database, %(size)s collected.",
            "%(name)s: %(count)s databases, %(size)s collected.",
            record.databases_count,
        ) % {
            "name": instance.name,
            "count": record.databases_count,
            "size": human_bytes(record.total_size_bytes),
        }
        return JsonResponse(
            {
                "success": True,
                "message": message,
                "databases_count": record.databases_count,
                "saved_count": record.saved_count,
                "total_size_bytes": record.total_size_bytes,
                "total_size_human": human_bytes(record.total_size_bytes),
                **body,
            }
        )
    if record.status == RecordStatus.SKIPPED:
        return json_error(_("%(name)s: %(error)s") % {"name": instance.name, "error": record.error}, 409, **body)
    return json_error(
        _("%(name)s: collection failed [%(kind)s]: %(error)s")
        % {"name": instance.name, "kind": record.get_error_kind_display() or "—", "error": record.error},
        502,
        error_kind=record.error_kind,
        **body,
    )


def instance_test_connection(model_admin, request, object_id):
    """Connect to one instance and report the server version, in JSON for the list's button."""
    refused = _require_sync_permission(request)
    if refused:
        return refused
    try:
        instance = _instance_or_404(model_admin, request, object_id)
    except Http404 as exc:
        return json_error(str(exc), 404)
    result = test_connection(instance)
    body = {
        "success": result.success,
        "server_version": result.server_version,
        "elapsed_ms": result.elapsed_ms,
        "error": result.error,
        "error_kind": result.error_kind,
        "fields": instance_fields(instance.pk),
    }
    if result.success:
        body["message"] = _("%(name)s: connected in %(ms)s ms (%(version)s).") % {
            "name": instance.name,
            "ms": result.elapsed_ms,
            "version": result.server_version,
        }
    else:
        body["error"] = _("%(name)s: connection failed [%(kind)s]: %(error)s") % {
            "name": instance.name,
            "kind": choice_label(ErrorKind.choices, result.error_kind),
            "error": result.error,
        }
    # A failed connection is a valid answer to "does it connect?", not a failed request.
    return JsonResponse(body)
