"""The nightly jobs as django-q2 schedules, kept in step with the settings on every `migrate`.

The crons come from settings (CAPACITY_COLLECT_CRON and friends), so the schedules are written
by a post_migrate handler rather than a data migration: change the variable, run `migrate`, and
the same schedule rows are updated. The collection sweeper runs every minute (it settles the
records of workers that stopped and re-queues tasks a killed cluster lost). Aggregation and
retention run after the collection: 30 and 60 minutes after it when the collection cron names a
fixed minute and hour, otherwise at their own settings (CAPACITY_AGGREGATE_CRON,
CAPACITY_RETENTION_CRON) or at 04:30 and 05:00.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The names are the keys of django-q2's Schedule rows (found by name on every `migrate`), so they
# stay the same in every language; pages show SCHEDULE_TITLES, translated.
COLLECTION = "capacity: nightly collection"
AGGREGATION = "capacity: period aggregation"
RETENTION = "capacity: retention and partitions"
SWEEPER = "capacity: collection sweeper"
SCHEDULE_TITLES = {
    COLLECTION: gettext_lazy("Nightly collection"),
    AGGREGATION: gettext_lazy("Period aggregation"),
    RETENTION: gettext_lazy("Retention and partitions"),
    SWEEPER: gettext_lazy("Collection sweeper"),
}
# Every minute: a worker that stopped is noticed within about stale_after() + a minute.
SWEEPER_CRON = "* * * * *"

FALLBACK_AGGREGATE_CRON = "30 4 * * *"
FALLBACK_RETENTION_CRON = "0 5 * * *"


@dataclass(frozen=True)
class JobSchedule:
    name: str
    func: str
    cron: str
    setting: str


def schedule_title(name: str) -> str:
    """What pages show for a schedule: the translated title of ours, the stored name of any other."""
    return str(SCHEDULE_TITLES.get(name, name))


def derived_cron(base: str, minutes_after: int) -> str | None:
    """A daily cron `minutes_after` the base cron's fixed time, or None when the base has no fixed time."""
    fields = base.split()
    if len(fields) != 5 or not (fields[0].isdigit() and fields[1].isdigit()):
        return None
    minute_of_day = (int(fields[1]) * 60 + int(fields[0]) + minutes_after) % (24 * 60)
    return f"{minute_of_day % 60} {minute_of_day // 60} * * *"


def job_schedules() -> list[JobSchedule]:
    collect = settings.CAPACITY_COLLECT_CRON.strip()
    aggregate = getattr(settings, "CAPACITY_AGGREGATE_CRON", "").strip()
    retention = getattr(settings, "CAPACITY_RETENTION_CRON", "").strip()
    return [
        JobSchedule(COLLECTION, "capacity.tasks.scheduled_collection", collect, "CAPACITY_COLLECT_CRON"),
        JobSchedule(
            AGGREGATION,
            "capacity.tasks.scheduled_aggregation",
            aggregate or derived_cron(collect, 30) or FALLBACK_AGGREGATE_CRON,
            "CAPACITY_AGGREGATE_CRON",
        ),
        JobSchedule(
            RETENTION,
            "capacity.tasks.scheduled_retention",
            retention or derived_cron(collect, 60) or FALLBACK_RETENTION_CRON,
            "CAPACITY_RETENTION_CRON",
        ),
        JobSchedule(SWEEPER, "capacity.tasks.sweep_collections", SWEEPER_CRON, ""),
    ]


def _bad_cron_message(job: JobSchedule, problem: str) -> str:
    return _("%(setting)s=%(cron)r: %(problem)s.") % {"setting": job.setting, "cron": job.cron, "problem": problem}


def cron_error(expression: str) -> str | None:
    """Why a cron expression is unusable, or None when it is fine."""
    from croniter import croniter

    if len(expression.split()) != 5:
        return _("a cron expression has five fields (minute hour day month weekday)")
    if not croniter.is_valid(expression):
        return _("not a valid cron expression")
    return None


@checks.register(checks.Tags.compatibility)
def check_crons(app_configs=None, **kwargs):
    errors = []
    for job in job_schedules():
        problem = cron_error(job.cron)
        if problem:
            errors.append(checks.Error(_bad_cron_message(job, problem), id="capacity.E001"))
    return errors


def ensure_schedules(using: str = DEFAULT_DB_ALIAS) -> list:
    """Create or update the schedules from the settings; returns the Schedule rows."""
    from django_q.models import Schedule

    rows = []
    for job in job_schedules():
        problem = cron_error(job.cron)
        if problem:
            raise ImproperlyConfigured(_bad_cron_message(job, problem))
        existing = Schedule.objects.using(using).filter(name=job.name).order_by("pk")
        first = existing.first()
        if first is not None:
            # One schedule per job: extra copies (made by hand in the admin) would run the job twice.
            existing.exclude(pk=first.pk).delete()
        defaults = {"func": job.func, "schedule_type": Schedule.CRON, "cron": job.cron, "cluster": None}
        if first is None or first.cron != job.cron or first.schedule_type != Schedule.CRON:
            defaults["next_run"] = Schedule(schedule_type=Schedule.CRON, cron=job.cron).calculate_next_run()
        schedule, _created = Schedule.objects.using(using).update_or_create(
            name=job.name,
            defaults=defaults,
            # A schedule paused in the admin (repeats 0) stays paused across migrations.
            create_defaults={**defaults, "repeats": -1},
        )
        rows.append(schedule)
    return rows


def on_post_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    """post_migrate receiver: keep the schedules in step, once django_q's tables exist."""
    from django_q.models import Schedule

    if not router.allow_migrate_model(using, Schedule):
        return
    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    ensure_schedules(using)
