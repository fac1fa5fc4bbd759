"""Alerting: the active rules against the latest collections, and a webhook for every alert that opens or closes.

Evaluation is set-based. Whatever the fleet, it reads the rules, the instances, every instance's latest
total, the live database rows of those latest collections (only when a rule watches databases), the daily
totals of the longest window (only when a rule watches growth or the forecast) and the firing alerts, then
writes what changed in one short transaction: a fixed number of queries however many instances there are.

One firing alert per (rule, instance, database): while the condition holds, each evaluation updates it;
when it clears, the alert is resolved; a later breach opens a new one. Webhooks are queued with django-q2
after the transaction commits, so a slow receiver never holds up a collection.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.formatting import human_bytes
from instances.models import Instance
from sync_sessions.choices import RecordStatus

from ..choices import KIND_UNIT, AlertKind, AlertStatus
from ..models import Alert, AlertRule, DatabaseSizeStat, InstanceSizeStat
from .forecast import LineFit, days_until_full

logger = logging.getLogger(__name__)

WEBHOOK_SCHEMES = ("http", "https")
WEBHOOK_MAX_REDIRECTS = 3
WEBHOOK_ERROR_LENGTH = 1000
CENT = Decimal("0.01")

Key = tuple[int, int, str]  # (rule id, instance id, database name)


def webhook_timeout() -> float:
    """Seconds a webhook may take to connect and to answer (CAPACITY_WEBHOOK_TIMEOUT, default 10)."""
    return float(settings.CAPACITY_WEBHOOK_TIMEOUT)


@dataclass(frozen=True)
class Breach:
    """A rule's condition holding on one instance (or one of its databases) now."""

    rule: AlertRule
    instance: Instance
    database_name: str
    value: Decimal
    threshold: Decimal
    message: str

    @property
    def key(self) -> Key:
        return (self.rule.pk, self.instance.pk, self.database_name)


@dataclass
class EvaluationResult:
    rules: int = 0
    instances: int = 0
    fired: list[Alert] = field(default_factory=list)
    still_firing: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rules": self.rules,
            "instances": self.instances,
            "fired": [alert.pk for alert in self.fired],
            "still_firing": len(self.still_firing),
            "resolved": [alert.pk for alert in self.resolved],
        }


# --- reading ---------------------------------------------------------------------------------


def _latest_totals(scope) -> dict[int, tuple[date, int]]:
    """{instance id: (latest collected_date, total bytes)} in one query, with a window function."""
    rows = (
        InstanceSizeStat.objects.filter(instance__in=scope, is_deleted=False)
        .annotate(_rank=Window(RowNumber(), partition_by=[F("instance_id")], order_by=[F("collected_date").desc()]))
        .filter(_rank=1)
        .values_list("instance_id", "collected_date", "total_size_bytes")
    )
    return {instance_id: (day, total) for instance_id, day, total in rows}


def _days_back(latest: dict[int, tuple[date, int]], instance_ids: Iterable[int], span: int) -> Q | None:
    """Rows of each instance from `span` days before its latest collection up to it, as one condition.

    Instances are grouped by their latest day (usually one group: the night's collection), so the
    condition stays short and PostgreSQL can prune the monthly partitions.
    """
    by_day: dict[date, list[int]] = defaultdict(list)
    for instance_id in instance_ids:
        if instance_id in latest:
            by_day[latest[instance_id][0]].append(instance_id)
    if not by_day:
        return None
    return reduce(
        or_,
        (
            Q(instance_id__in=ids, collected_date__gte=day - timedelta(days=span), collected_date__lte=day)
            for day, ids in sorted(by_day.items())
        ),
    )


def _live_databases(latest, instance_ids, min_size: int) -> dict[int, list[tuple[str, int]]]:
    """{instance id: [(database, bytes)]}: the live databases of each latest collection at or above min_size."""
    condition = _days_back(latest, instance_ids, 0)
    found: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if condition is None:
        return found
    rows = (
        DatabaseSizeStat.objects.filter(condition, is_deleted=False, size_bytes__gte=min_size)
        .order_by("instance_id", "database_name")
        .values_list("instance_id", "database_name", "size_bytes")
    )
    for instance_id, name, size in rows.iterator(chunk_size=5000):
        found[instance_id].append((name, size))
    return found


def _daily_totals(latest, instance_ids, span: int) -> dict[int, list[tuple[date, int]]]:
    """{instance id: [(day, total bytes)] oldest first} over the `span` days up to each latest collection."""
    condition = _days_back(latest, instance_ids, span)
    found: dict[int, list[tuple[date, int]]] = defaultdict(list)
    if condition is None:
        return found
    rows = (
        InstanceSizeStat.objects.filter(condition, is_deleted=False)
        .order_by("instance_id", "collected_date")
        .values_list("instance_id", "collected_date", "total_size_bytes")
    )
    for instance_id, day, total in rows.iterator(chunk_size=5000):
        found[instance_id].append((day, total))
    return found


# --- the conditions --------------------------------------------------------------------------


def _percent(value: Decimal) -> str:
    return formats.number_format(value, 2)


def _total_size(rule, instance, latest) -> Breach | None:
    day, total = latest
    if total < rule.threshold_bytes:
        return None
    message = _("%(instance)s holds %(value)s in total on %(day)s, at or above the %(threshold)s of rule “%(rule)s”.")
    return Breach(
        rule,
        instance,
        "",
        Decimal(total),
        Decimal(rule.threshold_bytes),
        message
        % {
            "instance": instance.name,
            "value": human_bytes(total),
            "day": day.isoformat(),
            "threshold": human_bytes(rule.threshold_bytes),
            "rule": rule.name,
        },
    )


def _database_sizes(rule, instance, databases) -> list[Breach]:
    message = _(
        "Database %(database)s on %(instance)s holds %(value)s, at or above the %(threshold)s of rule “%(rule)s”."
    )
    return [
        Breach(
            rule,
            instance,
            name,
            Decimal(size),
            Decimal(rule.threshold_bytes),
            message
            % {
                "database": name,
                "instance": instance.name,
                "value": human_bytes(size),
                "threshold": human_bytes(rule.threshold_bytes),
                "rule": rule.name,
            },
        )
        for name, size in databases
        if size >= rule.threshold_bytes
    ]


def _growth_percent(rule, instance, latest, totals) -> Breach | None:
    """Growth from the first collection of the window (latest day minus window_days onwards) to the latest."""
    day, current = latest
    start = day - timedelta(days=rule.window_days)
    baseline = next(((d, total) for d, total in totals if start <= d < day), None)
    if baseline is None or baseline[1] <= 0:
        return None  # one sample, or growth from nothing: no percentage to compare
    growth = (Decimal(current - baseline[1]) * 100 / Decimal(baseline[1])).quantize(CENT, ROUND_HALF_UP)
    if growth < rule.threshold_percent:
        return None
    days = (day - baseline[0]).days
    message = ngettext(
        "%(instance)s grew %(value)s%% in %(days)d day (%(before)s on %(from)s, %(after)s on %(to)s), at or above "
        "the %(threshold)s%% of rule “%(rule)s”.",
        "%(instance)s grew %(value)s%% in %(days)d days (%(before)s on %(from)s, %(after)s on %(to)s), at or above "
        "the %(threshold)s%% of rule “%(rule)s”.",
        days,
    )
    return Breach(
        rule,
        instance,
        "",
        growth,
        Decimal(rule.threshold_percent),
        message
        % {
            "instance": instance.name,
            "value": _percent(growth),
            "days": days,
            "before": human_bytes(baseline[1]),
            "from": baseline[0].isoformat(),
            "after": human_bytes(current),
            "to": day.isoformat(),
            "threshold": _percent(rule.threshold_percent),
            "rule": rule.name,
        },
    )


def _days_until_full(rule, instance, latest, totals) -> Breach | None:
    """The forecast's least-squares trend over the window_days up to the latest collection, against the limit."""
    limit = instance.capacity_limit_bytes
    if limit is None:
        return None
    day, current = latest
    window_start = day - timedelta(days=rule.window_days - 1)
    fit = LineFit()
    for d, total in totals:
        if d >= window_start:
            fit.add(d, total, day)
    slope = fit.slope()
    days = days_until_full(fit.current, slope, limit)
    if days is None or days > rule.threshold_days:
        return None
    values = {
        "instance": instance.name,
        "days": days,
        "limit": human_bytes(limit),
        "current": human_bytes(fit.current),
        "growth": human_bytes(float(slope)) if slope is not None else "—",
        "threshold": rule.threshold_days,
        "rule": rule.name,
    }
    if days == 0:
        message = _(
            "%(instance)s is at its capacity limit of %(limit)s (now %(current)s), within the %(threshold)d days "
            "of rule “%(rule)s”."
        )
    else:
        message = ngettext(
            "%(instance)s reaches its capacity limit of %(limit)s in %(days)d day at %(growth)s a day (now "
            "%(current)s), within the %(threshold)d days of rule “%(rule)s”.",
            "%(instance)s reaches its capacity limit of %(limit)s in %(days)d days at %(growth)s a day (now "
            "%(current)s), within the %(threshold)d days of rule “%(rule)s”.",
            days,
        )
    return Breach(rule, instance, "", Decimal(days), Decimal(rule.threshold_days), message % values)


def find_breaches(rules: list[AlertRule], fleet: dict[int, Instance]) -> dict[Key, Breach]:
    """Every condition that holds now, for the given rules over the given instances."""
    by_kind: dict[str, list[tuple[AlertRule, list[Instance]]]] = defaultdict(list)
    for rule in rules:
        if rule.threshold is None:
            continue  # saved around validation (a raw update): nothing to compare against
        if rule.instance_id is not None:
            targets = [fleet[rule.instance_id]] if rule.instance_id in fleet else []
        else:
            targets = list(fleet.values())
        targets = [i for i in targets if not rule.db_type or i.db_type == rule.db_type]
        if targets:
            by_kind[rule.kind].append((rule, targets))
    if not by_kind:
        return {}

    scope = list(fleet)
    latest = _latest_totals(scope)

    def watched(kinds):
        return {i.pk for kind in kinds for _rule, targets in by_kind.get(kind, []) for i in targets}

    database_rules = by_kind.get(AlertKind.DATABASE_SIZE, [])
    databases = {}
    if database_rules:
        smallest = min(rule.threshold_bytes for rule, _targets in database_rules)
        databases = _live_databases(latest, watched([AlertKind.DATABASE_SIZE]), smallest)

    trend_kinds = [AlertKind.GROWTH_PERCENT, AlertKind.DAYS_UNTIL_FULL]
    spans = [rule.window_days for kind in trend_kinds for rule, _targets in by_kind.get(kind, [])]
    totals = _daily_totals(latest, watched(trend_kinds), max(spans)) if spans else {}

    found: list[Breach | None] = []
    for kind, entries in by_kind.items():
        for rule, targets in entries:
            for instance in targets:
                current = latest.get(instance.pk)
                if current is None:
                    continue  # never collected: nothing to say yet
                if kind == AlertKind.TOTAL_SIZE:
                    found.append(_total_size(rule, instance, current))
                elif kind == AlertKind.DATABASE_SIZE:
                    found.extend(_database_sizes(rule, instance, databases.get(instance.pk, [])))
                elif kind == AlertKind.GROWTH_PERCENT:
                    found.append(_growth_percent(rule, instance, current, totals.get(instance.pk, [])))
                elif kind == AlertKind.DAYS_UNTIL_FULL:
                    found.append(_days_until_full(rule, instance, current, totals.get(instance.pk, [])))
    return {breach.key: breach for breach in found if breach is not None}


# --- evaluating ------------------------------------------------------------------------------


def _instance_ids(instances) -> list[int] | None:
    if instances is None:
        return None
    return sorted({i.pk if isinstance(i, Instance) else int(i) for i in instances})


def evaluate(instances: Iterable[Instance | int] | None = None) -> EvaluationResult:
    """Evaluate the active rules over the active instances (all, or those given) and queue their webhooks.

    Only the alerts of the instances evaluated are touched: firing ones whose condition no longer holds
    (the size went down, the rule was switched off or narrowed, the instance deactivated) are resolved.
    """
    ids = _instance_ids(instances)
    if ids is not None and not ids:
        return EvaluationResult()
    with translation.override(settings.LANGUAGE_CODE):
        # Two evaluations racing to open the same alert: the loser's insert breaks the one-firing-alert
        # constraint and rolls back; evaluating again then finds the winner's alert and updates it.
        for attempt in (1, 2):
            try:
                result = _evaluate(ids)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.info("another evaluation opened the same alerts at the same time; evaluating again")
        # Queued after the commit, so the task finds the alert and a slow webhook holds up nothing.
        events = result.fired + result.resolved
        if events:
            transaction.on_commit(lambda: queue_webhooks(events))
    return result


@dataclass
class _Plan:
    """What one evaluation will write: alerts to open, to keep (some with new figures) and to resolve."""

    now: object
    rules: int
    instances: int
    fired: list[Alert]
    kept: list[Alert]
    changed: list[Alert]
    resolved: list[Alert]


def _evaluate(ids: list[int] | None) -> EvaluationResult:
    return _apply(_plan(ids))


def _plan(ids: list[int] | None) -> _Plan:
    now = timezone.now()
    rules = list(AlertRule.objects.filter(is_active=True).order_by("pk"))
    fleet: dict[int, Instance] = {}
    if rules:
        instances = Instance.objects.filter(is_active=True).only("id", "name", "db_type", "capacity_limit_bytes")
        if ids is not None:
            instances = instances.filter(pk__in=ids)
        fleet = {instance.pk: instance for instance in instances}
    breaches = find_breaches(rules, fleet)

    firing = Alert.objects.filter(status=AlertStatus.FIRING).select_related("rule", "instance").order_by("pk")
    if ids is not None:
        firing = firing.filter(instance_id__in=ids)
    kept: list[Alert] = []
    changed: list[Alert] = []
    resolved: list[Alert] = []
    seen: set[Key] = set()
    for alert in firing:
        key = (alert.rule_id, alert.instance_id, alert.database_name)
        breach = breaches.get(key)
        if breach is None or key in seen:  # cleared, or a duplicate left by a backend without partial indexes
            alert.status, alert.resolved_at, alert.last_evaluated_at = AlertStatus.RESOLVED, now, now
            resolved.append(alert)
            continue
        seen.add(key)
        alert.last_evaluated_at = now
        kept.append(alert)
        if (alert.value, alert.threshold, alert.message) != (breach.value, breach.threshold, breach.message):
            alert.value, alert.threshold, alert.message = breach.value, breach.threshold, breach.message
            changed.append(alert)
    fired = [
        Alert(
            rule=breach.rule,
            instance=breach.instance,
            database_name=breach.database_name,
            status=AlertStatus.FIRING,
            value=breach.value,
            threshold=breach.threshold,
            message=breach.message,
            first_fired_at=now,
            last_evaluated_at=now,
        )
        for key, breach in breaches.items()
        if key not in seen
    ]
    return _Plan(now, len(rules), len(fleet), fired, kept, changed, resolved)


def _apply(plan: _Plan) -> EvaluationResult:
    """Write a plan in one short transaction, a fixed number of statements."""
    now = plan.now
    with transaction.atomic():
        if plan.resolved:
            Alert.objects.filter(pk__in=[a.pk for a in plan.resolved], status=AlertStatus.FIRING).update(
                status=AlertStatus.RESOLVED, resolved_at=now, last_evaluated_at=now
            )
        if plan.kept:
            Alert.objects.filter(pk__in=[a.pk for a in plan.kept]).update(last_evaluated_at=now)
        if plan.changed:
            Alert.objects.bulk_update(plan.changed, ["value", "threshold", "message"])
        if plan.fired:
            Alert.objects.bulk_create(plan.fired)
            if any(alert.pk is None for alert in plan.fired):  # backends that return no ids from a bulk insert
                _fill_ids(plan.fired, now)
    return EvaluationResult(
        rules=plan.rules,
        instances=plan.instances,
        fired=plan.fired,
        still_firing=plan.kept,
        resolved=plan.resolved,
    )


def _fill_ids(alerts: list[Alert], now) -> None:
    ids = {
        (rule_id, instance_id, name): pk
        for pk, rule_id, instance_id, name in Alert.objects.filter(
            status=AlertStatus.FIRING, first_fired_at=now
        ).values_list("pk", "rule_id", "instance_id", "database_name")
    }
    for alert in alerts:
        alert.pk = ids.get((alert.rule_id, alert.instance_id, alert.database_name))


def evaluate_after_collection(session) -> EvaluationResult | None:
    """Evaluate for the instances a collection has just measured. Never raises: alerting never fails a collection."""
    try:
        ids = list(
            session.records.filter(status=RecordStatus.COMPLETED, instance__isnull=False).values_list(
                "instance_id", flat=True
            )
        )
        return evaluate(ids) if ids else None
    except Exception:
        logger.exception("evaluating alert rules after session %s failed", session.session_id)
        return None


# --- webhooks --------------------------------------------------------------------------------


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def webhook_payload(alert: Alert) -> dict:
    """What a webhook receives: the alert, its rule and instance, and where to look in the admin."""
    rule, instance = alert.rule, alert.instance
    return {
        "alert_id": alert.pk,
        "status": alert.status,
        "rule_id": rule.pk,
        "rule_name": rule.name,
        "kind": rule.kind,
        "instance_id": instance.pk,
        "instance_name": instance.name,
        "db_type": instance.db_type,
        "database_name": alert.database_name,
        "value": _number(alert.value),
        "threshold": _number(alert.threshold),
        "unit": KIND_UNIT.get(rule.kind),
        "message": alert.message,
        "first_fired_at": alert.first_fired_at.isoformat(),
        "last_evaluated_at": alert.last_evaluated_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "link": reverse("admin:instances_instance_capacity", args=[instance.pk]),
    }


def queue_webhooks(alerts: Iterable[Alert]) -> int:
    """Queue one delivery task per alert whose rule has a webhook; returns how many were queued."""
    from django_q.tasks import async_task

    queued = 0
    for alert in alerts:
        if not alert.rule.webhook_url or alert.pk is None:
            continue
        payload = webhook_payload(alert)
        try:
            async_task(
                "capacity.tasks.deliver_alert_webhook",
                alert.pk,
                payload,
                task_name=f"alert-webhook-{alert.pk}-{alert.status}",
            )
            queued += 1
        except Exception as exc:  # a broker outage must not lose the alert itself
            logger.exception("queueing the webhook of alert %s failed", alert.pk)
            with translation.override(settings.LANGUAGE_CODE):
                error = _("The webhook could not be queued: %(error)s") % {"error": exc}
            Alert.objects.filter(pk=alert.pk).update(webhook_error=error[:WEBHOOK_ERROR_LENGTH])
    return queued


class _WebhookRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to http(s), never from https down to http, and re-send the same POST."""

    max_redirections = WEBHOOK_MAX_REDIRECTS

    @staticmethod
    def _refuse_other_schemes(req, fp, code, headers, newurl):
        before, after = urlsplit(req.full_url).scheme, urlsplit(newurl).scheme
        if after not in WEBHOOK_SCHEMES or (before == "https" and after != "https"):
            reason = _("redirect to %(url)s not followed") % {"url": newurl}
            raise urllib.error.HTTPError(req.full_url, code, reason, headers, fp)

    def http_error_302(self, req, fp, code, msg, headers):
        # Checked before urllib's own rules, which would still follow ftp: and word a refusal differently.
        location = headers.get("location") or headers.get("uri")
        if location:
            self._refuse_other_schemes(req, fp, code, headers, urljoin(req.full_url, location))
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self._refuse_other_schemes(req, fp, code, headers, newurl)
        return urllib.request.Request(
            newurl,
            data=req.data,
            headers=dict(req.headers),
            origin_req_host=req.origin_req_host,
            unverifiable=True,
            method="POST",
        )


def _opener() -> urllib.request.OpenerDirector:
    # Only the HTTP(S) handlers: no file:, ftp: or data: handler for a URL to reach.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _WebhookRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def post_json(url: str, payload: dict, timeout: float) -> tuple[int | None, str]:
    """POST payload as JSON; (HTTP status or None, "" on a 2xx answer or the reason it failed)."""
    if urlsplit(url).scheme not in WEBHOOK_SCHEMES:
        return None, _("Only http and https webhooks are sent.")
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "capacity-platform-alerts/1.0",
            "X-Capacity-Alert-Status": str(payload.get("status", "")),
        },
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, _("HTTP %(code)d: %(reason)s") % {"code": exc.code, "reason": exc.reason}
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None, _("No answer within %(s)s seconds.") % {"s": f"{timeout:g}"}
        return None, _("Could not reach the webhook: %(reason)s") % {"reason": exc.reason}
    except TimeoutError:
        return None, _("No answer within %(s)s seconds.") % {"s": f"{timeout:g}"}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, _("The webhook failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


def deliver_webhook(alert_id: int, payload: dict) -> dict:
    """Send one alert event to its rule's webhook and record the outcome on the alert. Never raises."""
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None:
        logger.info("alert %s is gone (its rule or instance was deleted); webhook not sent", alert_id)
        return {"alert_id": alert_id, "status": None, "error": "alert deleted"}
    url = alert.rule.webhook_url
    if not url:
        return {"alert_id": alert_id, "status": None, "error": "no webhook"}
    with translation.override(settings.LANGUAGE_CODE):
        try:
            code, error = post_json(url, payload, webhook_timeout())
        except Exception as exc:  # whatever the receiver does, the outcome is recorded, not raised
            logger.exception("webhook of alert %s failed", alert_id)
            code, error = None, _("The webhook failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
    fields = {"webhook_status": code, "webhook_error": error[:WEBHOOK_ERROR_LENGTH]}
    if not error:
        fields["webhook_delivered_at"] = timezone.now()
    Alert.objects.filter(pk=alert_id).update(**fields)
    if error:
        logger.warning("webhook of alert %s to %s failed: %s", alert_id, urlsplit(url).hostname, error)
    return {"alert_id": alert_id, "status": code, "error": error}
