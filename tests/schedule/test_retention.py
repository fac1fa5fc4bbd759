"""Retention: daily rows past CAPACITY_RETENTION_DAYS go, in batches off PostgreSQL; aggregates stay."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from capacity.models import (
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    InstanceSizeStat,
    MaintenanceJob,
    MaintenanceRun,
)
from capacity.services import retention
from capacity.services.aggregate import run_aggregation
from capacity.services.retention import cleanup, run_retention

from .helpers import make_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(make_instance):
    """Two instances with 400 days of rows ending today."""
    today = timezone.localdate()
    first = today - timedelta(days=399)
    a, b = make_instance("ret-a", "mysql"), make_instance("ret-b", "postgresql")
    make_rows(a, ["orders", "billing"], first, today)
    make_rows(b, ["audit"], first, today)
    return today, first


@override_settings(CAPACITY_RETENTION_DAYS=365)
def test_cleanup_removes_exactly_the_rows_older_than_retention(history):
    today, first = history
    cutoff = today - timedelta(days=365)
    old_db = DatabaseSizeStat.objects.filter(collected_date__lt=cutoff).count()
    old_instance = InstanceSizeStat.objects.filter(collected_date__lt=cutoff).count()
    kept_db = set(DatabaseSizeStat.objects.filter(collected_date__gte=cutoff).values_list("pk", flat=True))
    kept_instance = InstanceSizeStat.objects.filter(collected_date__gte=cutoff).count()
    assert old_db == 34 * 3 and old_instance == 34 * 2  # days today-399 .. today-366

    result = cleanup()

    assert result.cutoff_date == cutoff and result.retention_days == 365
    assert result.database_size_rows_deleted == old_db
    assert result.instance_size_rows_deleted == old_instance
    assert set(DatabaseSizeStat.objects.values_list("pk", flat=True)) == kept_db
    assert InstanceSizeStat.objects.count() == kept_instance
    assert DatabaseSizeStat.objects.order_by("collected_date").first().collected_date == cutoff
    assert result.method == ("partitions" if connection.vendor == "postgresql" else "rows")
    assert cleanup().database_size_rows_deleted == 0  # nothing left to remove


@override_settings(CAPACITY_RETENTION_DAYS=365)
def test_rows_go_in_batches(history, monkeypatch):
    monkeypatch.setattr(retention, "DELETE_BATCH", 7)
    result = cleanup()
    assert result.database_size_rows_deleted == 102
    assert result.instance_size_rows_deleted == 68


@override_settings(CAPACITY_RETENTION_DAYS=365)
def test_aggregates_survive_the_cleanup(history):
    run_aggregation()
    before = (
        list(DatabaseSizeAggregate.objects.order_by("pk").values()),
        list(InstanceSizeAggregate.objects.order_by("pk").values()),
    )
    cleanup()
    run_aggregation()
    after = (
        list(DatabaseSizeAggregate.objects.order_by("pk").values()),
        list(InstanceSizeAggregate.objects.order_by("pk").values()),
    )
    oldest = history[1]
    assert before[0] and DatabaseSizeAggregate.objects.filter(period_start__lte=oldest).exists()
    # Nothing was rewritten: the periods whose rows were cleaned keep the figures they had.
    assert after == before


@override_settings(CAPACITY_RETENTION_DAYS=365)
def test_daily_job_is_recorded(history):
    result = run_retention()
    run = MaintenanceRun.objects.get(job=MaintenanceJob.RETENTION)
    assert run.success is True
    assert run.summary["database_size_rows_deleted"] == result.database_size_rows_deleted == 102
    assert run.summary["cutoff_date"] == result.cutoff_date.isoformat()


def test_default_retention_keeps_two_years(history):
    assert cleanup().database_size_rows_deleted == 0
    assert DatabaseSizeStat.objects.count() == 400 * 3
