"""The task entry points, run the way the tests run django-q2: synchronously (sync=True)."""

from datetime import date

import pytest
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task, result

from capacity import schedules, tasks
from capacity.models import DatabaseSizeAggregate, MaintenanceJob, MaintenanceRun

from .helpers import make_rows

pytestmark = pytest.mark.django_db


def test_every_schedule_names_an_importable_task():
    for schedule in Schedule.objects.filter(name__in=[j.name for j in schedules.job_schedules()]):
        module, func = schedule.func.rsplit(".", 1)
        assert module == "capacity.tasks" and callable(getattr(tasks, func))


def test_aggregation_task_through_the_queue(make_instance):
    inst = make_instance("task-agg", "mysql")
    make_rows(inst, ["orders"], date(2025, 2, 3), date(2025, 2, 5))  # one week, month and quarter
    task_id = async_task("capacity.tasks.scheduled_aggregation")
    outcome = result(task_id)
    assert outcome["mode"] == "full" and outcome["database_periods"] == 3
    assert Task.objects.get(id=task_id).success
    assert DatabaseSizeAggregate.objects.filter(instance=inst).count() == 3
    assert MaintenanceRun.objects.get(job=MaintenanceJob.AGGREGATION).success


def test_retention_task_through_the_queue(make_instance):
    inst = make_instance("task-ret", "mysql")
    today = timezone.localdate()
    make_rows(inst, ["orders"], today.replace(year=today.year - 3), today.replace(year=today.year - 3))
    task_id = async_task("capacity.tasks.scheduled_retention")
    outcome = result(task_id)
    assert outcome["database_size_rows_deleted"] == 1 and outcome["instance_size_rows_deleted"] == 1
    assert MaintenanceRun.objects.get(job=MaintenanceJob.RETENTION).summary["cutoff_date"] == outcome["cutoff_date"]


def test_scheduled_collection_task_with_nothing_to_collect_completes():
    assert tasks.scheduled_collection() == "completed"
