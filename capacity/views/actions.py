"""The per-row buttons of the instance admin (collect now, test the connection), answering in JSON."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from common.badges import status_badge
from common.formatting import human_bytes, local_datetime, signed_bytes
from instances.models import Instance
from instances.services import check_connection

from ..queries import annotate_instance_capacity
from ..services.sync_one import SyncOutcome, sync_instance

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


# How each outcome of the shared services answers the buttons (a failed connection is a valid
# answer to "does it connect?", not a failed request).
SYNC_STATUS = {
    SyncOutcome.COMPLETED: 200,
    SyncOutcome.SKIPPED: 409,
    SyncOutcome.FAILED: 502,
    SyncOutcome.INACTIVE: 400,
    SyncOutcome.NO_CREDENTIAL: 400,
    SyncOutcome.DENIED: 502,
}


def instance_sync_capacity(model_admin, request, object_id):
    """Collect one instance now through the one collection path; answer in JSON for the list's button."""
    refused = _require_sync_permission(request)
    if refused:
        return refused
    try:
        instance = _instance_or_404(model_admin, request, object_id)
    except Http404 as exc:
        return json_error(str(exc), 404)
    outcome = sync_instance(instance, request.user)
    if outcome.status in (SyncOutcome.INACTIVE, SyncOutcome.NO_CREDENTIAL):
        return json_error(outcome.summary, SYNC_STATUS[outcome.status])
    body = {"fields": instance_fields(instance.pk)}
    if outcome.session is not None:
        body["session_id"] = str(outcome.session.session_id)
        body["session_url"] = reverse("admin:sync_sessions_syncsession_change", args=[outcome.session.pk])
    if outcome.success:
        record = outcome.record
        return JsonResponse(
            {
                "success": True,
                "message": outcome.summary,
                "databases_count": record.databases_count,
                "saved_count": record.saved_count,
                "total_size_bytes": record.total_size_bytes,
                "total_size_human": human_bytes(record.total_size_bytes),
                **body,
            }
        )
    if outcome.kind:
        body["error_kind"] = outcome.kind
    return json_error(outcome.summary, SYNC_STATUS[outcome.status], **body)


def instance_test_connection(model_admin, request, object_id):
    """Connect to one instance and report the server version, in JSON for the list's button."""
    refused = _require_sync_permission(request)
    if refused:
        return refused
    try:
        instance = _instance_or_404(model_admin, request, object_id)
    except Http404 as exc:
        return json_error(str(exc), 404)
    outcome = check_connection(instance, user=request.user)
    result = outcome.result
    body = {
        "success": outcome.success,
        "server_version": result.server_version,
        "elapsed_ms": result.elapsed_ms,
        "error": "" if outcome.success else outcome.summary,
        "error_kind": result.error_kind,
        "fields": instance_fields(instance.pk),
    }
    if outcome.success:
        body["message"] = outcome.summary
    return JsonResponse(body)
