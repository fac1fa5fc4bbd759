"""Alert conditions: read the latest sizes in a few queries and find which rules hold where.

Nothing here writes; persistence.py turns the breaches into alerts."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from capacity.services.forecast import LineFit, days_until_full, footprints
from common.formatting import human_bytes
from instances.models import Instance

from ..choices import AlertKind
from ..models import AlertRule

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")

Key = tuple[int, int, str]  # (rule id, instance id, database name)


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


def _live_databases(latest, instance_ids, min_size: int) -> dict[int, list[tuple[str, int, bool]]]:
    """{instance id: [(database, bytes, is system)]}: the live databases of each latest collection at or
    above min_size, each flagged when the inventory knows it as one of the engine's own."""
    condition = _days_back(latest, instance_ids, 0)
    found: dict[int, list[tuple[str, int, bool]]] = defaultdict(list)
    if condition is None:
        return found
    system = DatabaseInventory.objects.filter(
        instance_id=OuterRef("instance_id"), database_name=OuterRef("database_name"), is_system=True
    )
    rows = (
        DatabaseSizeStat.objects.filter(condition, is_deleted=False, size_bytes__gte=min_size)
        .annotate(_system=Exists(system))
        .order_by("instance_id", "database_name")
        .values_list("instance_id", "database_name", "size_bytes", "_system")
    )
    for instance_id, name, size, is_system in rows.iterator(chunk_size=5000):
        found[instance_id].append((name, size, bool(is_system)))
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
        for name, size, is_system in databases
        # System databases (information_schema, mysql, master, …) only when the rule opts in.
        if size >= rule.threshold_bytes and (rule.include_system_databases or not is_system)
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


def _days_until_full(rule, instance, latest, totals, footprint: int | None) -> Breach | None:
    """The forecast's least-squares trend over the window_days up to the latest collection, against the limit.

    As in the forecast, the room left is counted from the disk footprint of the latest collection
    where the engine told allocated sizes (`footprint`), from the logical total otherwise.
    """
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
    start = fit.current if footprint is None else footprint
    days = days_until_full(start, slope, limit)
    if days is None or days > rule.threshold_days:
        return None
    values = {
        "instance": instance.name,
        "days": days,
        "limit": human_bytes(limit),
        "current": human_bytes(start),
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
    full_watch = watched([AlertKind.DAYS_UNTIL_FULL])
    on_disk = footprints({i: latest[i][0] for i in full_watch if i in latest}) if full_watch else {}

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
                    found.append(
                        _days_until_full(rule, instance, current, totals.get(instance.pk, []), on_disk.get(instance.pk))
                    )
    return {breach.key: breach for breach in found if breach is not None}
