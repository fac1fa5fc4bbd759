"""The capacity page of one instance: cards, the size history chart and its databases."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from common.badges import status_badge
from common.formatting import growth_percent, human_bytes, signed_bytes
from instances.models import Instance
from sync_sessions.models import SyncInstanceRecord

from ..charts import (
    DEFAULT_PERIOD,
    DEFAULT_RANGE,
    PERIOD_CHOICES,
    RANGE_CHOICES,
    BadParameter,
    instance_chart,
    parse_period,
    parse_range,
)
from ..models import (
    DatabaseInventory,
    InstanceSizeStat,
)
from ..queries import GROWTH_WINDOWS, annotate_instance_capacity
from ..services import readmodels
from .actions import _instance_or_404, action_strings, json_error

# --- the instance capacity page ----------------------------------------------------------------


def _database_rows(instance: Instance, today: date):
    rows = readmodels.with_database_growth(
        DatabaseInventory.objects.filter(instance=instance).order_by("is_deleted", "-last_size_bytes", "database_name"),
        today,
        GROWTH_WINDOWS,
    )
    out = []
    for row in rows:
        out.append(
            {
                "name": row.database_name,
                "is_system": row.is_system,
                "is_deleted": row.is_deleted,
                "deleted_at": row.deleted_at,
                "restored_at": row.restored_at,
                "first_seen_at": row.first_seen_at,
                "last_seen_at": row.last_seen_at,
                "size": human_bytes(row.last_size_bytes),
                "size_bytes": row.last_size_bytes,
                "data": human_bytes(row.last_data_size_bytes),
                "index": human_bytes(row.last_index_size_bytes),
                "log": human_bytes(row.last_log_size_bytes),
                "growth7": None if row.is_deleted else signed_bytes(row.growth_7d_bytes),
                "growth30": None if row.is_deleted else signed_bytes(row.growth_30d_bytes),
                "growth30_bytes": None if row.is_deleted else row.growth_30d_bytes,
            }
        )
    return out


def instance_capacity(model_admin, request, object_id):
    """Cards, the size history chart and the databases of one instance."""
    instance = _instance_or_404(model_admin, request, object_id)
    if not model_admin.has_view_permission(request, instance):
        raise PermissionDenied
    today = timezone.localdate()
    annotated = annotate_instance_capacity(Instance.objects.filter(pk=instance.pk), today).get()
    latest = InstanceSizeStat.objects.filter(instance=instance, is_deleted=False).order_by("-collected_date").first()
    databases = _database_rows(instance, today)
    live = [d for d in databases if not d["is_deleted"]]
    largest = max(live, key=lambda d: d["size_bytes"], default=None)
    limit = instance.capacity_limit_bytes
    total = annotated.latest_total_bytes
    label, css = status_badge(instance.last_sync_status)
    history_url = reverse("admin:instances_instance_capacity_history", args=[instance.pk])
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Capacity of %(name)s") % {"name": instance.name},
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "original": instance,
        "instance": instance,
        "has_view_permission": True,
        "can_sync": request.user.has_perm("instances.sync_capacity"),
        "can_change": model_admin.has_change_permission(request, instance),
        "latest": latest,
        "total_bytes": total,
        "growth_30d_bytes": annotated.growth_30d_bytes,
        "growth_30d_signed": signed_bytes(annotated.growth_30d_bytes),
        "growth_30d_percent": growth_percent(annotated.growth_30d_bytes, total),
        "growth_7d_signed": signed_bytes(annotated.growth_7d_bytes),
        "database_count": annotated.latest_db_count,
        "deleted_count": len(databases) - len(live),
        "largest": largest,
        "limit_bytes": limit,
        "limit_used_percent": number_format(total * 100 / limit, 1) if (limit and total is not None) else "",
        "status_label": label,
        "status_class": css,
        "databases": databases,
        "history_url": history_url,
        "chart": instance_chart(instance, DEFAULT_RANGE, DEFAULT_PERIOD),
        "range_choices": RANGE_CHOICES,
        "period_choices": PERIOD_CHOICES,
        "default_range": DEFAULT_RANGE,
        "default_period": DEFAULT_PERIOD,
        "action_strings": action_strings(),
        "sync_url": reverse("admin:instances_instance_sync_capacity", args=[instance.pk]),
        "test_url": reverse("admin:instances_instance_test_connection", args=[instance.pk]),
        "recent_records": SyncInstanceRecord.objects.filter(instance=instance)
        .select_related("session")
        .order_by("-session__started_at")[:5],
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/instances/instance/capacity.html", context)


def instance_capacity_history(model_admin, request, object_id):
    """Chart points for one instance (or `?database=`), for the range and period pickers."""
    try:
        instance = _instance_or_404(model_admin, request, object_id)
    except Http404 as exc:
        return json_error(str(exc), 404)
    if not model_admin.has_view_permission(request, instance):
        return json_error(_("You do not have permission to view this instance."), 403)
    try:
        range_key = parse_range(request.GET.get("range"))
        period = parse_period(request.GET.get("period"))
    except BadParameter as exc:
        return json_error(str(exc), 400)
    database = request.GET.get("database") or None
    if database and not DatabaseInventory.objects.filter(instance=instance, database_name=database).exists():
        return json_error(
            _("%(instance)s has no database named '%(name)s'.") % {"instance": instance.name, "name": database}, 404
        )
    return JsonResponse({"success": True, **instance_chart(instance, range_key, period, database)})
