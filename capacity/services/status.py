"""What the scheduler did last and will do next: collection, aggregation, retention, partitions."""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from sync_sessions.choices import SyncType
from sync_sessions.models import SyncSession

from .. import schedules
from ..models import MaintenanceJob, MaintenanceRun
from .partitions import partition_state
from .periods import retention_cutoff


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
    """The broker in use and, for the ORM broker, how many tasks wait in it."""
    from django_q.models import OrmQ

    if settings.Q_CLUSTER.get("redis"):
        return {"broker": "redis", "queued_tasks": None}
    return {"broker": "orm", "queued_tasks": OrmQ.objects.using(using).count()}
