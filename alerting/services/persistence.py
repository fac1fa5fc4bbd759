"""Persistence of an evaluation: which alerts to open, keep and resolve, written in one short transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from instances.models import Instance

from ..choices import AlertStatus
from ..models import Alert, AlertRule
from .conditions import Key, find_breaches

logger = logging.getLogger(__name__)


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


def plan(ids: list[int] | None) -> _Plan:
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


def apply(plan: _Plan) -> EvaluationResult:
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
