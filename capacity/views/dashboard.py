"""The fleet dashboard: totals, the largest and fastest-growing, engines and recent runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from common.badges import status_badge
from common.formatting import growth_percent, human_bytes, human_duration, signed_bytes
from instances.models import Instance
from sync_sessions.models import SyncSession

from ..charts import (
    DEFAULT_PERIOD,
    DEFAULT_RANGE,
    PERIOD_CHOICES,
    RANGE_CHOICES,
    BadParameter,
    chart_payload,
    fleet_chart,
    parse_period,
    parse_range,
)
from ..models import (
    DatabaseInventory,
)
from ..queries import fastest_growing_tables, fleet_summary, instances_with_capacity
from ..services import readmodels
from .actions import action_strings, json_error

TOP_N = 10
RECENT_SESSIONS = 10


# --- the fleet dashboard -----------------------------------------------------------------------


def _share_rows(items, size_key):
    """Rows for a top-N table, each with its share of the largest value for the inline bar."""
    peak = max((abs(item[size_key] or 0) for item in items), default=0)
    for item in items:
        item["share"] = round(abs(item[size_key] or 0) * 100 / peak) if peak else 0
    return items


def _top_instances(instances):
    """The largest and the fastest-growing instances, from the instances annotated once for the page."""

    def row(i):
        return {
            "instance": i,
            "db_type": i.get_db_type_display(),
            "size": human_bytes(i.latest_total_bytes),
            "size_bytes": i.latest_total_bytes,
            "growth": signed_bytes(i.growth_30d_bytes),
            "growth_bytes": i.growth_30d_bytes,
            "growth_percent": growth_percent(i.growth_30d_bytes, i.latest_total_bytes),
            "url": reverse("admin:instances_instance_capacity", args=[i.pk]),
        }

    sized = [i for i in instances if i.latest_total_bytes is not None]
    by_size = [row(i) for i in sorted(sized, key=lambda i: (-i.latest_total_bytes, i.name))[:TOP_N]]
    grown = [i for i in instances if i.growth_30d_bytes is not None and i.growth_30d_bytes > 0]
    by_growth = [row(i) for i in sorted(grown, key=lambda i: (-i.growth_30d_bytes, i.name))[:TOP_N]]
    return _share_rows(by_size, "size_bytes"), _share_rows(by_growth, "growth_bytes")


def _top_databases(today: date, instances):
    """The largest and the fastest-growing live databases; their instances come from `instances` (no join)."""
    by_pk = {i.pk: i for i in instances}
    live = DatabaseInventory.objects.filter(is_deleted=False).only(
        "instance_id", "database_name", "last_size_bytes", "is_deleted"
    )

    def row(d):
        growth = getattr(d, "growth_30d_bytes", None)
        return {
            "name": d.database_name,
            "instance": by_pk.get(d.instance_id) or d.instance,
            "size": human_bytes(d.last_size_bytes),
            "size_bytes": d.last_size_bytes,
            "growth": signed_bytes(growth),
            "growth_bytes": growth,
            "growth_percent": growth_percent(growth, d.last_size_bytes),
            "url": reverse("admin:instances_instance_capacity", args=[d.instance_id]),
        }

    by_size = [row(d) for d in live.order_by("-last_size_bytes", "database_name")[:TOP_N]]
    # Every live database's growth from keyed reads of the day 30 days ago, ranked by the database; then the top rows.
    top = readmodels.fastest_growing_databases(today, 30, TOP_N)
    chosen = {d.pk: d for d in live.filter(pk__in=list(top))} if top else {}
    by_growth = []
    for pk, growth in top.items():
        if pk in chosen:
            chosen[pk].growth_30d_bytes = growth
            by_growth.append(row(chosen[pk]))
    return _share_rows(by_size, "size_bytes"), _share_rows(by_growth, "growth_bytes")


def _top_tables(today: date):
    rows = [
        {
            "name": f"{t.schema_name}.{t.table_name}" if t.schema_name else t.table_name,
            "database": t.database_name,
            "instance": t.instance,
            "size": human_bytes(t.total_size_bytes),
            "growth": signed_bytes(t.growth_bytes),
            "growth_bytes": t.growth_bytes,
            "growth_percent": growth_percent(t.growth_bytes, t.total_size_bytes),
            "url": reverse("admin:instances_instance_capacity", args=[t.instance_id])
            + "?"
            + urlencode({"database": t.database_name})
            + "#capacity-tables",
        }
        for t in fastest_growing_tables(today, days=7, limit=TOP_N)
    ]
    return _share_rows(rows, "growth_bytes")


def _by_db_type(instances):
    """Instances, databases and latest size per engine."""
    from instances.choices import DbType

    totals = defaultdict(lambda: {"instances": 0, "databases": 0, "size_bytes": 0})
    for i in instances:
        bucket = totals[i.db_type]
        bucket["instances"] += 1
        bucket["databases"] += i.latest_db_count or 0
        bucket["size_bytes"] += i.latest_total_bytes or 0
    rows = []
    grand = sum(b["size_bytes"] for b in totals.values())
    for value, label in DbType.choices:
        if value not in totals:
            continue
        bucket = totals[value]
        rows.append(
            {
                "db_type": value,
                "label": str(label),
                "instances": bucket["instances"],
                "databases": bucket["databases"],
                "size": human_bytes(bucket["size_bytes"]),
                "size_bytes": bucket["size_bytes"],
                "share": number_format(bucket["size_bytes"] * 100 / grand, 1) if grand else "0",
            }
        )
    chart = chart_payload(
        [r["label"] for r in rows], [(_("Total size"), [r["size_bytes"] for r in rows])], kind="doughnut"
    )
    return rows, chart


def _recent_sessions():
    sessions = SyncSession.objects.select_related("created_by").order_by("-started_at", "-id")[:RECENT_SESSIONS]
    out = []
    for s in sessions:
        label, css = status_badge(s.status)
        out.append(
            {
                "session": s,
                "url": reverse("admin:sync_sessions_syncsession_change", args=[s.pk]),
                "status_label": label,
                "status_class": css,
                "duration": human_duration(s.duration_seconds),
                "size": human_bytes(s.total_size_bytes),
            }
        )
    return out


def dashboard(model_admin, request):
    """The fleet at a glance: totals, the largest and fastest-growing, engines and recent runs."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    # Every instance with its latest total and growth, read once and shared by the sections below.
    instances = instances_with_capacity(Instance.objects.order_by(), today)
    top_instances_size, top_instances_growth = _top_instances(instances)
    top_databases_size, top_databases_growth = _top_databases(today, instances)
    top_tables_growth = _top_tables(today)
    db_type_rows, db_type_chart = _by_db_type(instances)
    summary = fleet_summary(instances)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Capacity dashboard"),
        "subtitle": None,
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        "summary": summary,
        "total_human": human_bytes(summary["total_bytes"]),
        "user_total_human": human_bytes(summary["user_total_bytes"]),
        "growth_30d_signed": signed_bytes(summary["growth_30d_bytes"]),
        "top_instances_size": top_instances_size,
        "top_instances_growth": top_instances_growth,
        "top_databases_size": top_databases_size,
        "top_databases_growth": top_databases_growth,
        "top_tables_growth": top_tables_growth,
        "db_type_rows": db_type_rows,
        "db_type_chart": db_type_chart,
        "fleet_chart": fleet_chart(DEFAULT_RANGE, DEFAULT_PERIOD),
        "history_url": reverse("admin:capacity_dashboard_history"),
        "range_choices": RANGE_CHOICES,
        "period_choices": PERIOD_CHOICES,
        "default_range": DEFAULT_RANGE,
        "default_period": DEFAULT_PERIOD,
        "recent_sessions": _recent_sessions(),
        "action_strings": action_strings(),
        "today": today,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/capacity/dashboard.html", context)


def dashboard_history(model_admin, request):
    """Fleet total points for the dashboard's range and period pickers."""
    if not model_admin.has_view_permission(request):
        return json_error(_("You do not have permission to view capacity."), 403)
    try:
        range_key = parse_range(request.GET.get("range"))
        period = parse_period(request.GET.get("period"))
    except BadParameter as exc:
        return json_error(str(exc), 400)
    return JsonResponse({"success": True, **fleet_chart(range_key, period)})
