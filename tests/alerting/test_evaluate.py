"""Evaluation: every kind fires and resolves on generated rows, one firing alert per key, constant queries."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert
from alerting.services import evaluate, persistence
from capacity.services.forecast import forecast_instance
from instances.engines import DatabaseSize

from .conftest import END, GiB, MiB, add_collection, add_history

pytestmark = pytest.mark.django_db

NEXT = END + timedelta(days=1)


def firing(**filters):
    return list(Alert.objects.filter(status=AlertStatus.FIRING, **filters).order_by("pk"))


def test_total_size_fires_updates_resolves_and_fires_again(make_target, make_rule):
    orders = make_target("orders")
    rule = make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=10 * GiB)
    add_collection(orders, END, {"a": 6 * GiB, "b": 5 * GiB})

    result = evaluate()
    assert [a.pk for a in result.fired] == [a.pk for a in firing()]
    (alert,) = firing()
    assert (alert.rule, alert.instance, alert.database_name) == (rule, orders, "")
    assert (alert.value, alert.threshold) == (Decimal(11 * GiB), Decimal(10 * GiB))
    assert "orders" in alert.message and "11.00 GiB" in alert.message and "10.00 GiB" in alert.message
    assert alert.first_fired_at == alert.last_evaluated_at and alert.resolved_at is None

    # Still over on the next collection: the same alert, updated.
    add_collection(orders, NEXT, {"a": 7 * GiB, "b": 5 * GiB})
    result = evaluate()
    assert not result.fired and [a.pk for a in result.still_firing] == [alert.pk]
    again = Alert.objects.get()
    assert again.value == 12 * GiB and "12.00 GiB" in again.message
    assert again.first_fired_at == alert.first_fired_at and again.last_evaluated_at > alert.last_evaluated_at

    # Back under: resolved.
    add_collection(orders, NEXT + timedelta(days=1), {"a": 4 * GiB})
    result = evaluate()
    assert [a.pk for a in result.resolved] == [alert.pk]
    resolved = Alert.objects.get()
    assert resolved.status == AlertStatus.RESOLVED and resolved.resolved_at is not None
    assert evaluate().resolved == []  # resolving happens once

    # Over again: a new alert, the old one stays resolved.
    add_collection(orders, NEXT + timedelta(days=2), {"a": 20 * GiB})
    result = evaluate()
    assert len(result.fired) == 1 and result.fired[0].pk != alert.pk
    assert Alert.objects.count() == 2
    assert [a.pk for a in firing()] == [result.fired[0].pk]
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.RESOLVED


def test_database_size_watches_the_live_databases_of_the_latest_collection(make_target, make_rule):
    orders = make_target("orders")
    other = make_target("other")
    make_rule("big database", AlertKind.DATABASE_SIZE, threshold_bytes=GiB, instance=orders)
    # Yesterday "old" was big; today it is gone (deleted row) and "sales" shrank below the threshold.
    add_collection(orders, END - timedelta(days=1), {"sales": 3 * GiB, "old": 5 * GiB, "logs": 2 * GiB})
    add_collection(orders, END, {"sales": GiB - 1, "logs": 2 * GiB, "audit": GiB}, deleted={"old": 5 * GiB})
    add_collection(other, END, {"huge": 50 * GiB})  # out of the rule's scope

    result = evaluate()
    assert sorted(a.database_name for a in result.fired) == ["audit", "logs"]
    assert {a.instance_id for a in firing()} == {orders.pk}
    logs = Alert.objects.get(database_name="logs")
    assert logs.value == 2 * GiB and "logs" in logs.message and "orders" in logs.message

    add_collection(orders, NEXT, {"sales": 2 * GiB, "logs": GiB // 2, "audit": GiB})
    result = evaluate()
    assert [a.database_name for a in result.resolved] == ["logs"]
    assert [a.database_name for a in result.fired] == ["sales"]
    assert sorted(a.database_name for a in firing()) == ["audit", "sales"]
    # One firing alert per (rule, instance, database), however often it is evaluated.
    evaluate()
    evaluate()
    assert sorted(a.database_name for a in firing()) == ["audit", "sales"]


def test_growth_percent_over_the_window(make_target, make_rule):
    orders = make_target("orders")
    # 100 MiB for days 0..7, then 10 MiB more a day: 170 MiB on day 14 (END).
    add_history(orders, END, 15, {"sales": lambda i: (100 + max(0, i - 7) * 10) * MiB})
    week = make_rule("fast week", AlertKind.GROWTH_PERCENT, threshold_percent=Decimal("50"), window_days=7)
    make_rule("fast three days", AlertKind.GROWTH_PERCENT, threshold_percent=Decimal("50"), window_days=3)

    result = evaluate()
    (alert,) = result.fired
    assert alert.rule == week
    assert alert.value == Decimal("70.00") and alert.threshold == Decimal("50.00")  # 100 -> 170 MiB
    assert "70.00%" in alert.message and "7 days" in alert.message

    # The next day the total falls back to 120 MiB: 110 -> 120 MiB over the week is 9.09 %.
    add_collection(orders, NEXT, {"sales": 120 * MiB})
    result = evaluate()
    assert [a.pk for a in result.resolved] == [alert.pk] and not firing()


def test_growth_percent_needs_an_earlier_sample_in_the_window(make_target, make_rule):
    orders = make_target("orders")
    add_collection(orders, END - timedelta(days=30), {"sales": MiB})  # outside the 7-day window
    add_collection(orders, END, {"sales": 100 * MiB})
    make_rule("fast", AlertKind.GROWTH_PERCENT, threshold_percent=Decimal("1"), window_days=7)
    assert evaluate().fired == []


def test_days_until_full_uses_the_forecast(make_target, make_rule):
    limited = make_target("limited", capacity_limit_bytes=300 * MiB)
    unlimited = make_target("unlimited")
    for inst in (limited, unlimited):
        add_history(inst, END, 40, {"sales": lambda i: (100 + i) * MiB, "logs": lambda i: 20 * MiB})
    soon = make_rule("full soon", AlertKind.DAYS_UNTIL_FULL, threshold_days=180, window_days=30)
    make_rule("full very soon", AlertKind.DAYS_UNTIL_FULL, threshold_days=100, window_days=30)

    result = evaluate()
    (alert,) = result.fired
    assert (alert.rule, alert.instance) == (soon, limited)
    expected = forecast_instance(limited, days=30).instance.days_until_full
    assert expected == math.ceil((300 - 159) * MiB / MiB)  # 1 MiB a day from 159 MiB
    assert alert.value == expected and alert.threshold == 180
    assert f"{expected} days" in alert.message and "300.00 MiB" in alert.message

    # More room: the forecast moves past the threshold and the alert resolves.
    limited.capacity_limit_bytes = 10 * GiB
    limited.save()
    assert [a.pk for a in evaluate().resolved] == [alert.pk]

    # Already over the limit: 0 days.
    limited.capacity_limit_bytes = 100 * MiB
    limited.save()
    over = evaluate().fired
    assert sorted(a.rule.name for a in over) == ["full soon", "full very soon"]
    assert all(a.value == 0 and "at its capacity limit" in a.message for a in over)


def test_days_until_full_counts_from_the_disk_footprint_as_the_forecast_does(make_target, make_rule):
    """The files hold more than the data: the forecast says full in 41 days, so must the alert."""
    limited = make_target("limited", capacity_limit_bytes=300 * MiB)

    def sales(i):
        size = (100 + i) * MiB
        return DatabaseSize("sales", size, size, allocated_size_bytes=size + 100 * MiB)

    add_history(limited, END, 40, {"sales": sales, "logs": lambda i: 20 * MiB})
    make_rule("full soon", AlertKind.DAYS_UNTIL_FULL, threshold_days=60, window_days=30)

    forecast = forecast_instance(limited, days=30).instance
    assert forecast.footprint_bytes == 259 * MiB  # 239 MiB of sales' files and 20 MiB of logs
    assert forecast.days_until_full == 41  # (300 - 259) MiB at 1 MiB a day
    (alert,) = evaluate().fired
    assert alert.value == forecast.days_until_full
    assert "41 days" in alert.message and "now 259.00 MiB" in alert.message


def test_scope_by_instance_db_type_and_activity(make_target, make_rule):
    maria = make_target("maria", db_type="mysql")
    pg = make_target("pg", db_type="postgresql")
    idle = make_target("idle", db_type="postgresql", is_active=False)
    for inst in (maria, pg, idle):
        add_collection(inst, END, {"a": 2 * GiB})
    make_rule("pg only", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, db_type="postgresql")
    make_rule("maria only", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, instance=maria)
    everyone = make_rule("everyone", AlertKind.TOTAL_SIZE, threshold_bytes=GiB)
    make_rule("off", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, is_active=False)

    evaluate()
    fired = {(a.rule.name, a.instance.name) for a in firing()}
    assert fired == {("pg only", "pg"), ("maria only", "maria"), ("everyone", "maria"), ("everyone", "pg")}

    # Switching the rule off, or the instance, resolves their alerts on the next evaluation.
    everyone.is_active = False
    everyone.save()
    pg.is_active = False
    pg.save()
    result = evaluate()
    assert {(a.rule.name, a.instance.name) for a in result.resolved} == {
        ("everyone", "maria"),
        ("everyone", "pg"),
        ("pg only", "pg"),
    }
    assert {(a.rule.name, a.instance.name) for a in firing()} == {("maria only", "maria")}


def test_evaluating_some_instances_leaves_the_others_alone(make_target, make_rule):
    a, b = make_target("a"), make_target("b")
    for inst in (a, b):
        add_collection(inst, END, {"db": 2 * GiB})
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB)
    evaluate()
    for inst in (a, b):
        add_collection(inst, NEXT, {"db": 1})
    result = evaluate([a])
    assert [x.instance for x in result.resolved] == [a]
    assert [x.instance for x in firing()] == [b]
    assert evaluate([]).rules == 0  # nothing to evaluate: no query at all


def test_instances_never_collected_raise_nothing(make_target, make_rule):
    make_target("new", capacity_limit_bytes=MiB)
    for kind, field in [
        (AlertKind.TOTAL_SIZE, {"threshold_bytes": 1}),
        (AlertKind.DATABASE_SIZE, {"threshold_bytes": 1}),
        (AlertKind.GROWTH_PERCENT, {"threshold_percent": Decimal("0.01")}),
        (AlertKind.DAYS_UNTIL_FULL, {"threshold_days": 10000}),
    ]:
        make_rule(kind, kind, **field)
    result = evaluate()
    assert (result.rules, result.instances, result.fired) == (4, 1, [])


def test_two_evaluations_racing_for_the_same_alert_leave_one(make_target, make_rule, monkeypatch):
    orders = make_target("orders")
    rule = make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB)
    add_collection(orders, END, {"a": 2 * GiB})
    real_apply = persistence.apply
    calls = []

    def racing(plan):
        if not calls:  # the other evaluation opens the alert after this one looked, before it writes
            Alert.objects.create(
                rule=rule,
                instance=orders,
                value=1,
                threshold=1,
                message="opened by the other evaluation",
                first_fired_at=plan.now,
                last_evaluated_at=plan.now,
            )
        calls.append(plan)
        return real_apply(plan)

    monkeypatch.setattr(persistence, "apply", racing)
    result = evaluate()
    if not connection.features.supports_partial_indexes:
        # MySQL keeps no partial unique index: both inserts land, and the next evaluation keeps the older one.
        assert len(calls) == 1 and len(firing()) == 2
        winner, duplicate = firing()
        result = evaluate()
        assert [a.pk for a in result.resolved] == [duplicate.pk] and [a.pk for a in firing()] == [winner.pk]
        return
    assert len(calls) == 2 and len(calls[0].fired) == 1 and not calls[1].fired
    (alert,) = Alert.objects.all()
    assert alert.status == AlertStatus.FIRING and [a.pk for a in result.still_firing] == [alert.pk]
    assert alert.value == 2 * GiB and "orders" in alert.message  # the second pass updated the winner's alert


def _fleet(make_target, prefix, n):
    instances = [make_target(f"{prefix}{k}", capacity_limit_bytes=300 * MiB) for k in range(n)]
    for inst in instances:
        add_history(inst, END, 10, {"a": lambda i: (100 + 10 * i) * MiB, "b": lambda i: 200 * MiB})
    return instances


def _phases(instances):
    """Query counts of four evaluations: all fire, nothing changes, values change, all resolve."""
    ids = [i.pk for i in instances]
    counts, results = [], []

    def run():
        with CaptureQueriesContext(connection) as queries:
            results.append(evaluate(ids))
        counts.append(len(queries))

    run()
    run()
    for inst in instances:
        add_collection(inst, NEXT, {"a": 300 * MiB, "b": 250 * MiB})
    run()
    for inst in instances:
        add_collection(inst, NEXT + timedelta(days=1), {"a": 1, "b": 1})
    run()
    return counts, results


def test_query_count_does_not_grow_with_the_fleet(make_target, make_rule):
    make_rule("total", AlertKind.TOTAL_SIZE, threshold_bytes=100 * MiB)
    make_rule("database", AlertKind.DATABASE_SIZE, threshold_bytes=150 * MiB)
    make_rule("growth", AlertKind.GROWTH_PERCENT, threshold_percent=Decimal("5"), window_days=7)
    make_rule("full", AlertKind.DAYS_UNTIL_FULL, threshold_days=1000, window_days=7)

    small_counts, small = _phases(_fleet(make_target, "s", 2))
    large_counts, large = _phases(_fleet(make_target, "l", 20))

    # Per instance: total, both databases, growth and days until full.
    assert [len(r.fired) for r in small] == [10, 0, 0, 0]
    assert [len(r.fired) for r in large] == [100, 0, 0, 0]
    assert [len(r.still_firing) for r in large] == [0, 100, 100, 0]
    assert [len(r.resolved) for r in large] == [0, 0, 0, 100]
    assert small_counts == large_counts, (small_counts, large_counts)
    # Rules, instances, latest totals, live databases, window totals, disk footprints, firing alerts, then
    # the writes in a savepoint: one UPDATE or INSERT per phase, plus the value UPDATE when the figures moved.
    assert large_counts == [10, 10, 11, 10], large_counts
