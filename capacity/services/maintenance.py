"""Bookkeeping of the maintenance jobs: one MaintenanceRun row per job, the latest run."""

from __future__ import annotations

from contextlib import contextmanager

from django.utils import timezone

from ..models import MaintenanceRun


class RunLog:
    """What a running job reports back: its summary and, for aggregation, its new watermark."""

    def __init__(self, run: MaintenanceRun, previous_watermark):
        self.run = run
        self.previous_watermark = previous_watermark
        self.summary: dict = {}
        self.watermark = previous_watermark


@contextmanager
def recorded_run(job: str):
    """Mark the job as started, then as finished (with its summary) or failed (with the error)."""
    started = timezone.now()
    previous = MaintenanceRun.objects.filter(job=job).values_list("watermark", flat=True).first()
    run, _created = MaintenanceRun.objects.update_or_create(
        job=job, defaults={"started_at": started, "finished_at": None, "success": None, "error": ""}
    )
    log = RunLog(run, previous)
    try:
        yield log
    except Exception as exc:
        MaintenanceRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), success=False, error=f"{type(exc).__name__}: {exc}", summary={}
        )
        raise
    MaintenanceRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), success=True, summary=log.summary, watermark=log.watermark
    )
