"""Admin pages and JSON views for capacity: the dashboard, an instance's capacity page, the per-row actions.

The views are plain functions taking the ModelAdmin that mounts them (InstanceAdmin and
InstanceSizeStatAdmin wire them up in their `get_urls`), so they get the admin's context,
permissions and login handling. Charts get their points from a `json_script` tag on first
render and from the `*_history` JSON views when the staff switch range or period.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter

from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, ExpressionWrapper, F, OuterRef, Subquery
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from instances.choices import ErrorKind
from instances.models import Instance
from instances.services import test_connection
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession

from .formatting import human_bytes
from .models import (
    DatabaseInventory,
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    InstanceSizeStat,
)
from .services import readmodels
from .services.aggregate import refresh_instance

RANGE_DAYS = {"30d": 30, "90d": 90, "1y": 365, "all": None}
RANGE_CHOICES = [
    ("30d", gettext_lazy("30 days")),
    ("90d", gettext_lazy("90 days")),
    ("1y", gettext_lazy("1 year")),
    ("all", gettext_lazy("All")),
]
PERIOD_CHOICES = [
    ("day", gettext_lazy("Daily")),
    ("week", gettext_lazy("Weekly")),
    ("month", gettext_lazy("Monthly")),
]
DEFAULT_RANGE = "90d"
DEFAULT_PERIOD = "day"
GROWTH_WINDOWS = (7, 30)
# A missed night or two must not dip the fleet curve; an instance silent for longer drops out of it.
FLEET_CARRY_DAYS = 7
TOP_N = 10
RECENT_SESSIONS = 10

_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


class BadParameter(ValueError):
    """A query-string value the JSON views cannot use; its message names the problem."""


# --- small formatting helpers ------------------------------------------------------------------


def local_datetime(value) -> str:
    """A datetime as the admin shows it: in TIME_ZONE, in the active language's format."""
    if value is None:
        return "—"
    return formats.localize(timezone.template_localtime(value))


def signed_bytes(value: int | None) -> str:
    if value is None:
        return "—"
    return f"+{human_bytes(value)}" if value > 0 else human_bytes(value)


def percent(part: int | None, whole: int | None) -> str:
    if part is None or not whole:
        return ""
    value = part * 100 / whole
    sign = "+" if value > 0 else ""
    return f"{sign}{number_format(value, 1)}%"


def growth_percent(growth: int | None, latest: int | None) -> str:
    """Growth relative to the size it grew from."""
    if growth is None or latest is None:
        return ""
    return percent(growth, latest - growth)


def error_kind_label(kind: str | None) -> str:
    """The words for an error kind ("Connection", "Authentication"…), or the raw value if unknown."""
    if not kind:
        return "—"
    return str(dict(ErrorKind.choices).get(kind, kind))


def status_badge(status: str) -> tuple[str, str]:
    """(label, css class) for an instance's last collection status or a session/record status."""
    labels = {
        RecordStatus.COMPLETED: _("OK"),
        RecordStatus.FAILED: _("Failed"),
        RecordStatus.SKIPPED: _("Skipped"),
        RecordStatus.RUNNING: _("Running"),
        RecordStatus.PENDING: _("Pending"),
        SessionStatus.PARTIAL: _("Partial"),
    }
    if not status:
        return _("Never collected"), "capacity-status capacity-status-none"
    return str(labels.get(status, status)), f"capacity-status capacity-status-{status}"


# --- chart payloads ----------------------------------------------------------------------------


def chart_unit(values) -> tuple[int, str]:
    """The binary unit that keeps the largest value of a series between 1 and 1024."""
    peak = max((abs(v) for v in values if v is not None), default=0)
    exponent = 0
    while peak >= 1024 and exponent < len(_UNITS) - 1:
        peak /= 1024
        exponent += 1
    return 1024**exponent, _UNITS[exponent]


def chart_payload(labels, datasets, **extra) -> dict:
    """Points for Chart.js: values scaled to one readable unit, exact sizes as tooltip text.

    `datasets` is a list of (label, [bytes or None, ...]) with one value per label.
    """
    divisor, unit = chart_unit(v for _label, values in datasets for v in values)
    return {
        "labels": [str(label) for label in labels],
        "unit": unit,
        "datasets": [
            {
                "label": str(label),
                "values": [None if v is None else round(v / divisor, 3) for v in values],
                "human": [human_bytes(v) for v in values],
            }
            for label, values in datasets
        ],
        **extra,
    }


def period_label(day: date, period: str) -> str:
    if period == "month":
        return date_format(day, "YEAR_MONTH_FORMAT")
    return date_format(day, "SHORT_DATE_FORMAT")


def parse_range(value: str | None) -> str:
    value = value or DEFAULT_RANGE
    if value not in RANGE_DAYS:
        raise BadParameter(
            _("Unknown range '%(value)s'; use one of %(choices)s.") % {"value": value, "choices": ", ".join(RANGE_DAYS)}
        )
    return value


def parse_period(value: str | None) -> str:
    value = value or DEFAULT_PERIOD
    periods = [key for key, _label in PERIOD_CHOICES]
    if value not in periods:
        raise BadParameter(
            _("Unknown period '%(value)s'; use one of %(choices)s.") % {"value": value, "choices": ", ".join(periods)}
        )
    return value


def range_start(range_key: str, today: date | None = None) -> date | None:
    days = RANGE_DAYS[range_key]
    if days is None:
        return None
    return (today or timezone.localdate()) - timedelta(days=days)


def period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def average_by_period(points, period: str) -> list[tuple[date, int]]:
    """Daily (date, bytes) points averaged into weeks (from Monday) or calendar months."""
    if period == "day":
        return list(points)
    out = []
    for start, group in groupby(points, key=lambda p: period_start(p[0], period)):
        values = [v for _d, v in group]
        out.append((start, round(sum(values) / len(values))))
    return out


# --- history series ----------------------------------------------------------------------------


def instance_series(instance: Instance, range_key: str, period: str, database: str | None = None):
    """An instance's total (or one of its databases') over the range: daily rows, or the weekly and
    monthly aggregates (average size per ISO week or calendar month) kept by capacity.services.aggregate.
    """
    start = range_start(range_key)
    if period == "day":
        if database:
            queryset = DatabaseSizeStat.objects.filter(instance=instance, database_name=database)
            field = "size_bytes"
        else:
            queryset = InstanceSizeStat.objects.filter(instance=instance, is_deleted=False)
            field = "total_size_bytes"
        if start:
            queryset = queryset.filter(collected_date__gte=start)
        return list(queryset.order_by("collected_date").values_list("collected_date", field))

    # Collections since the last nightly aggregation run would be missing from the aggregates.
    refresh_instance(instance)
    if database:
        queryset = DatabaseSizeAggregate.objects.filter(instance=instance, database_name=database)
    else:
        queryset = InstanceSizeAggregate.objects.filter(instance=instance)
    queryset = queryset.filter(period_type=period)
    if start:
        queryset = queryset.filter(period_end__gte=start)
    return list(queryset.order_by("period_start").values_list("period_start", "avg_size_bytes"))


def instance_chart(instance: Instance, range_key: str, period: str, database: str | None = None) -> dict:
    points = instance_series(instance, range_key, period, database)
    label = database or _("Total size")
    if period != "day":
        label = _("%(what)s, average of the %(period)s") % {
            "what": label,
            "period": _("week") if period == "week" else _("month"),
        }
    return chart_payload(
        [period_label(d, period) for d, _v in points],
        [(label, [v for _d, v in points])],
        range=range_key,
        period=period,
        database=database or "",
    )


def fleet_series(range_key: str, period: str) -> list[tuple[date, int]]:
    """The fleet's total per collection day: each instance's latest total of the last few days, summed."""
    start = range_start(range_key)
    queryset = InstanceSizeStat.objects.filter(is_deleted=False)
    if start:
        queryset = queryset.filter(collected_date__gte=start - timedelta(days=FLEET_CARRY_DAYS))
    rows = queryset.order_by("collected_date").values_list("collected_date", "instance_id", "total_size_bytes")
    latest: dict[int, tuple[date, int]] = {}
    points = []
    for day, group in groupby(rows.iterator(), key=itemgetter(0)):
        for _day, instance_id, size in group:
            latest[instance_id] = (day, size)
        if start and day < start:
            continue
        points.append((day, sum(size for seen, size in latest.values() if (day - seen).days <= FLEET_CARRY_DAYS)))
    return average_by_period(points, period)


def fleet_chart(range_key: str, period: str) -> dict:
    points = fleet_series(range_key, period)
    return chart_payload(
        [period_label(d, period) for d, _v in points],
        [(_("Fleet total"), [v for _d, v in points])],
        range=range_key,
        period=period,
    )


# --- instance capacity annotations -------------------------------------------------------------


def _latest_instance_stat(field: str):
    return Subquery(
        InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False)
        .order_by("-collected_date")
        .values(field)[:1]
    )


def _instance_total_on(day: date):
    return Subquery(
        InstanceSizeStat.objects.filter(instance=OuterRef("pk"), is_deleted=False, collected_date__lte=day)
        .order_by("-collected_date")
        .values("total_size_bytes")[:1]
    )


def annotate_instance_capacity(queryset, today: date | None = None):
    """Latest total, database count and 7/30-day growth per instance, in the same single query."""
    today = today or timezone.localdate()
    annotations = {
        "latest_total_bytes": _latest_instance_stat("total_size_bytes"),
        "latest_db_count": _latest_instance_stat("database_count"),
        "latest_collected_date": _latest_instance_stat("collected_date"),
    }
    for days in GROWTH_WINDOWS:
        annotations[f"total_{days}d_ago"] = _instance_total_on(today - timedelta(days=days))
    queryset = queryset.annotate(**annotations)
    return queryset.annotate(
        **{
            f"growth_{days}d_bytes": ExpressionWrapper(
                F("latest_total_bytes") - F(f"total_{days}d_ago"), output_field=BigIntegerField()
            )
            for days in GROWTH_WINDOWS
        }
    )


# --- summaries ---------------------------------------------------------------------------------


def last_session():
    return SyncSession.objects.select_related("created_by").order_by("-started_at", "-id").first()


def fleet_summary() -> dict:
    """The numbers on top of the admin index and the dashboard."""
    instances = list(annotate_instance_capacity(Instance.objects.all()).order_by())
    session = last_session()
    failures = []
    if session is not None:
        failures = list(
            session.records.filter(status=RecordStatus.FAILED).select_related("instance").order_by("instance_name")
        )
    with_history = [i for i in instances if i.growth_30d_bytes is not None]
    growth_30d = sum(i.growth_30d_bytes for i in with_history) if with_history else None
    total = sum(i.latest_total_bytes or 0 for i in instances)
    return {
        "instances_total": len(instances),
        "instances_active": sum(1 for i in instances if i.is_active),
        "instances_failing": sum(1 for i in instances if i.last_sync_status == RecordStatus.FAILED),
        "databases": DatabaseInventory.objects.filter(is_deleted=False).count(),
        "total_bytes": total,
        "growth_30d_bytes": growth_30d,
        # relative to the instances that have 30 days of history, the only ones whose growth is known
        "growth_30d_percent": growth_percent(growth_30d, sum(i.latest_total_bytes for i in with_history)),
        "last_session": session,
        "last_session_badge": status_badge(session.status) if session else None,
        "failures": failures,
    }


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
            f"{instance.get_last_sync_error_kind_display()}: {instance.last_sync_error}"
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

    from .services.collect import collect

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
        return json_error(f"{instance.name}: {record.error}", 409, **body)
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
            "kind": error_kind_label(result.error_kind),
            "error": result.error,
        }
    # A failed connection is a valid answer to "does it connect?", not a failed request.
    return JsonResponse(body)


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


# --- the fleet dashboard -----------------------------------------------------------------------


def _share_rows(items, size_key):
    """Rows for a top-N table, each with its share of the largest value for the inline bar."""
    peak = max((abs(item[size_key] or 0) for item in items), default=0)
    for item in items:
        item["share"] = round(abs(item[size_key] or 0) * 100 / peak) if peak else 0
    return items


def _top_instances(today: date):
    base = annotate_instance_capacity(Instance.objects.all(), today)

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

    by_size = [row(i) for i in base.filter(latest_total_bytes__isnull=False).order_by("-latest_total_bytes")[:TOP_N]]
    by_growth = [row(i) for i in base.filter(growth_30d_bytes__gt=0).order_by("-growth_30d_bytes", "name")[:TOP_N]]
    return _share_rows(by_size, "size_bytes"), _share_rows(by_growth, "growth_bytes")


def _top_databases(today: date):
    live = DatabaseInventory.objects.filter(is_deleted=False).select_related("instance")

    def row(d):
        growth = getattr(d, "growth_30d_bytes", None)
        return {
            "name": d.database_name,
            "instance": d.instance,
            "size": human_bytes(d.last_size_bytes),
            "size_bytes": d.last_size_bytes,
            "growth": signed_bytes(growth),
            "growth_bytes": growth,
            "growth_percent": growth_percent(growth, d.last_size_bytes),
            "url": reverse("admin:instances_instance_capacity", args=[d.instance_id]),
        }

    by_size = [row(d) for d in live.order_by("-last_size_bytes", "database_name")[:TOP_N]]
    # Every live database's growth from keyed reads of the day 30 days ago, ranked here; then the top rows.
    top = readmodels.fastest_growing_databases(today, 30, TOP_N)
    chosen = {d.pk: d for d in live.filter(pk__in=list(top))}
    by_growth = []
    for pk, growth in top.items():
        if pk in chosen:
            chosen[pk].growth_30d_bytes = growth
            by_growth.append(row(chosen[pk]))
    return _share_rows(by_size, "size_bytes"), _share_rows(by_growth, "growth_bytes")


def _by_db_type(today: date):
    """Instances, databases and latest size per engine."""
    from instances.choices import DbType

    totals = defaultdict(lambda: {"instances": 0, "databases": 0, "size_bytes": 0})
    for i in annotate_instance_capacity(Instance.objects.all(), today).order_by():
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


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("%(s)s s") % {"s": number_format(seconds, 1)}
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def dashboard(model_admin, request):
    """The fleet at a glance: totals, the largest and fastest-growing, engines and recent runs."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    top_instances_size, top_instances_growth = _top_instances(today)
    top_databases_size, top_databases_growth = _top_databases(today)
    db_type_rows, db_type_chart = _by_db_type(today)
    summary = fleet_summary()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Capacity dashboard"),
        "subtitle": None,
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        "summary": summary,
        "total_human": human_bytes(summary["total_bytes"]),
        "growth_30d_signed": signed_bytes(summary["growth_30d_bytes"]),
        "top_instances_size": top_instances_size,
        "top_instances_growth": top_instances_growth,
        "top_databases_size": top_databases_size,
        "top_databases_growth": top_databases_growth,
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
