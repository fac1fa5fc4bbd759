"""What the scheduler did last and will do next: collection, aggregation, retention, partitions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext as _

from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession

from .. import schedules
from ..models import MaintenanceJob, MaintenanceRun
from .partitions import partition_state
from .periods import retention_cutoff

# The sweeper is due every minute; a scheduler silent for longer than this is not running.
SCHEDULER_SILENCE_SECONDS = 180


def _schedule(job: schedules.JobSchedule, rows: dict) -> dict:
    row = rows.get(job.name)
    return {
        "name": job.name,
        "func": job.func,
        "cron": row.cron if row else job.cron,
        "scheduled": row is not None,
        "paused": bool(row is not None and row.repeats == 0),
        "next_run": row.next_run if row is not None and row.repeats != 0 else None,
    }


def _run(run: MaintenanceRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "success": run.success,
        "summary": run.summary,
        "error": run.error,
    }


def _session(session: SyncSession | None) -> dict | None:
    if session is None:
        return None
    return {
        "session_id": session.session_id,
        "sync_type": session.sync_type,
        "status": session.status,
        "started_at": session.started_at,
        "completed_at": session.completed_at,
        "total_instances": session.total_instances,
        "successful_instances": session.successful_instances,
        "failed_instances": session.failed_instances,
        "skipped_instances": session.skipped_instances,
        "total_size_bytes": session.total_size_bytes,
    }


def capacity_status(using: str = DEFAULT_DB_ALIAS) -> dict:
    """Everything GET /api/capacity/status/ reports, in a constant number of queries."""
    from django_q.models import Schedule

    jobs = {job.name: job for job in schedules.job_schedules()}
    rows = {}
    for row in Schedule.objects.using(using).filter(name__in=list(jobs)).order_by("pk"):
        rows.setdefault(row.name, row)
    runs = {run.job: run for run in MaintenanceRun.objects.using(using).all()}
    sessions = SyncSession.objects.using(using).order_by("-started_at", "-id")
    latest = sessions.first()
    latest_scheduled = latest if latest and latest.sync_type == SyncType.SCHEDULED else None
    if latest is not None and latest_scheduled is None:
        latest_scheduled = sessions.filter(sync_type=SyncType.SCHEDULED).first()
    return {
        "collection": {
            "schedule": _schedule(jobs[schedules.COLLECTION], rows),
            "last_session": _session(latest),
            "last_scheduled_session": _session(latest_scheduled),
        },
        "aggregation": {
            "schedule": _schedule(jobs[schedules.AGGREGATION], rows),
            "last_run": _run(runs.get(MaintenanceJob.AGGREGATION)),
        },
        "retention": {
            "schedule": _schedule(jobs[schedules.RETENTION], rows),
            "retention_days": settings.CAPACITY_RETENTION_DAYS,
            "cutoff_date": retention_cutoff(),
            "last_run": _run(runs.get(MaintenanceJob.RETENTION)),
        },
        "partitions": partition_state(using),
        "task_queue": _task_queue(using),
    }


def _task_queue(using: str) -> dict:
    """The broker, what waits on it, and whether any cluster is there to work on it.

    A cluster counts as running when django-q2's own cluster stats show one (Redis keeps them
    for every cluster on every machine) or when the scheduler fired the every-minute sweeper
    lately (the scheduler runs inside a cluster, whatever the broker). Reads only: it reports
    what it sees and settles nothing.
    """
    from django_q.models import OrmQ, Schedule

    now = timezone.now()
    pending = SyncInstanceRecord.objects.using(using).filter(
        session__status=SessionStatus.RUNNING, session__queued=True, status=RecordStatus.PENDING
    )
    pending_records = pending.count()
    clusters = None
    if settings.Q_CLUSTER.get("redis"):
        broker_name = "redis"
        try:
            from django_q.brokers import get_broker
            from django_q.status import Stat

            broker = get_broker()
            queued = broker.queue_size()
            clusters = len(Stat.get_all(broker))
        except Exception:  # Redis is down: nothing queued can run either
            queued = None
    else:
        broker_name = "orm"
        queued = OrmQ.objects.using(using).count()
    sweeper = Schedule.objects.using(using).filter(name=schedules.SWEEPER).order_by("pk").first()
    last_tick = None
    # `task` is set when the scheduler fires it; a schedule never fired says nothing of a cluster.
    if sweeper is not None and sweeper.task and sweeper.next_run is not None and sweeper.repeats != 0:
        last_tick = sweeper.next_run - timedelta(minutes=1)
    scheduler_alive = last_tick is not None and last_tick >= now - timedelta(seconds=SCHEDULER_SILENCE_SECONDS)
    running = bool(clusters) or scheduler_alive
    warning = None
    if not running and (queued or pending_records):
        warning = _(
            "Collection work is queued (%(tasks)s task(s), %(records)d instance(s) waiting) but no task "
            "cluster is running: start `manage.py qcluster` (scripts/run.sh does)."
        ) % {"tasks": "?" if queued is None else queued, "records": pending_records}
    return {
        "broker": broker_name,
        "queued_tasks": queued,
        "pending_instances": pending_records,
        "clusters_running": clusters,
        "scheduler_seen_at": last_tick,
        "cluster_running": running,
        "warning": warning,
    }
