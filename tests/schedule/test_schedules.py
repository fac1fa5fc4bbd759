"""The nightly schedules: written on migrate, updated (never duplicated) when the settings change."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from capacity import schedules
from capacity.schedules import check_crons, derived_cron, on_post_migrate

pytestmark = pytest.mark.django_db

JOBS = {
    schedules.COLLECTION: "capacity.tasks.scheduled_collection",
    schedules.AGGREGATION: "capacity.tasks.scheduled_aggregation",
    schedules.RETENTION: "capacity.tasks.scheduled_retention",
}


def _next_local(hour: int, minute: int) -> datetime:
    now = timezone.localtime()
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def test_migrate_leaves_the_three_schedules_with_the_default_crons():
    rows = {s.name: s for s in Schedule.objects.filter(name__in=JOBS)}
    assert set(rows) == set(JOBS)
    for name, func in JOBS.items():
        assert rows[name].func == func
        assert rows[name].schedule_type == Schedule.CRON
        assert rows[name].repeats == -1
        assert rows[name].cluster is None
    assert rows[schedules.COLLECTION].cron == "0 3 * * *"
    assert rows[schedules.AGGREGATION].cron == "30 3 * * *"
    assert rows[schedules.RETENTION].cron == "0 4 * * *"
    assert rows[schedules.COLLECTION].next_run > timezone.now()


def test_changing_the_cron_and_migrating_again_updates_the_same_rows():
    before = {s.name: s.pk for s in Schedule.objects.filter(name__in=JOBS)}
    with override_settings(CAPACITY_COLLECT_CRON="15 1 * * *"):
        on_post_migrate(sender=None, using=connection.alias)
        on_post_migrate(sender=None, using=connection.alias)  # idempotent
    rows = {s.name: s for s in Schedule.objects.filter(name__in=JOBS)}
    assert Schedule.objects.filter(name__in=JOBS).count() == 3
    assert {name: row.pk for name, row in rows.items()} == before
    assert rows[schedules.COLLECTION].cron == "15 1 * * *"
    assert rows[schedules.AGGREGATION].cron == "45 1 * * *"
    assert rows[schedules.RETENTION].cron == "15 2 * * *"
    # next_run follows the new cron instead of waiting for the old time.
    assert rows[schedules.COLLECTION].next_run == _next_local(1, 15)
    assert rows[schedules.AGGREGATION].next_run == _next_local(1, 45)


def test_migrate_command_runs_the_handler():
    Schedule.objects.filter(name__in=JOBS).delete()
    with override_settings(CAPACITY_COLLECT_CRON="0 2 * * 1-5"):
        call_command("migrate", verbosity=0, interactive=False)
    rows = {s.name: s.cron for s in Schedule.objects.filter(name__in=JOBS)}
    assert rows == {
        schedules.COLLECTION: "0 2 * * 1-5",
        schedules.AGGREGATION: "30 2 * * *",
        schedules.RETENTION: "0 3 * * *",
    }


def test_unchanged_cron_keeps_next_run_and_a_paused_schedule_stays_paused():
    row = Schedule.objects.get(name=schedules.COLLECTION)
    due = timezone.now() + timedelta(hours=5)
    Schedule.objects.filter(pk=row.pk).update(next_run=due, repeats=0)
    on_post_migrate(sender=None, using=connection.alias)
    row.refresh_from_db()
    assert row.next_run == due
    assert row.repeats == 0


def test_duplicates_made_by_hand_are_folded_into_one():
    original = Schedule.objects.get(name=schedules.COLLECTION)
    Schedule.objects.create(
        name=schedules.COLLECTION,
        func="capacity.tasks.scheduled_collection",
        schedule_type=Schedule.CRON,
        cron="5 5 * * *",
    )
    on_post_migrate(sender=None, using=connection.alias)
    assert list(Schedule.objects.filter(name=schedules.COLLECTION).values_list("pk", "cron")) == [
        (original.pk, "0 3 * * *")
    ]


def test_own_crons_for_aggregation_and_retention_win():
    with override_settings(CAPACITY_AGGREGATE_CRON="0 6 * * *", CAPACITY_RETENTION_CRON="0 7 * * 0"):
        on_post_migrate(sender=None, using=connection.alias)
    rows = {s.name: s.cron for s in Schedule.objects.filter(name__in=JOBS)}
    assert rows[schedules.AGGREGATION] == "0 6 * * *"
    assert rows[schedules.RETENTION] == "0 7 * * 0"


@pytest.mark.parametrize(
    ("base", "after", "expected"),
    [
        ("0 3 * * *", 30, "30 3 * * *"),
        ("45 23 * * *", 30, "15 0 * * *"),
        ("0 23 * * 1-5", 60, "0 0 * * *"),
        ("*/30 * * * *", 30, None),
        ("0 3,15 * * *", 30, None),
        ("not a cron", 30, None),
    ],
)
def test_derived_cron(base, after, expected):
    assert derived_cron(base, after) == expected


def test_collection_cron_without_a_fixed_time_gets_the_fallback_times():
    with override_settings(CAPACITY_COLLECT_CRON="*/30 * * * *"):
        on_post_migrate(sender=None, using=connection.alias)
    rows = {s.name: s.cron for s in Schedule.objects.filter(name__in=JOBS)}
    assert rows[schedules.AGGREGATION] == schedules.FALLBACK_AGGREGATE_CRON
    assert rows[schedules.RETENTION] == schedules.FALLBACK_RETENTION_CRON


def test_a_bad_cron_is_refused_loudly_and_named():
    with override_settings(CAPACITY_COLLECT_CRON="0 25 * * *"):
        with pytest.raises(ImproperlyConfigured, match="CAPACITY_COLLECT_CRON='0 25 \\* \\* \\*'"):
            on_post_migrate(sender=None, using=connection.alias)
        errors = check_crons()
    assert [e.id for e in errors] == ["capacity.E001"]
    assert "CAPACITY_COLLECT_CRON" in errors[0].msg
    with override_settings(CAPACITY_RETENTION_CRON="0 3 * *"):
        assert "five fields" in check_crons()[0].msg
    assert check_crons() == []
    assert Schedule.objects.get(name=schedules.COLLECTION).cron == "0 3 * * *"


def _q_cluster_with(**env):
    """Q_CLUSTER as the settings build it from the given environment (in a fresh interpreter)."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, capacity_site.settings as s; "
        "print(json.dumps({k: v for k, v in s.Q_CLUSTER.items() if k != 'label'}))"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "Q_TIMEOUT", "Q_SYNC")}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_q_cluster_uses_the_orm_broker_by_default_and_redis_when_asked():
    orm = _q_cluster_with()
    assert orm["orm"] == "default" and "redis" not in orm and orm["sync"] is False
    # A night's collection is neither killed early nor handed to a second worker.
    assert orm["timeout"] >= 3600 and orm["retry"] > orm["timeout"]
    assert orm["max_attempts"] == 1 and orm["catch_up"] is False
    redis = _q_cluster_with(REDIS_URL="redis://127.0.0.1:6379/0", Q_TIMEOUT="7200")
    assert redis["redis"] == "redis://127.0.0.1:6379/0" and "orm" not in redis
    assert (redis["timeout"], redis["retry"]) == (7200, 7800)
