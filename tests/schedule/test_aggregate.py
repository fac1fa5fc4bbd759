"""Weekly, monthly and quarterly aggregates agree with the daily rows, and only changed periods are redone."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from capacity.models import (
    DatabaseSizeAggregate,
    DatabaseSizeStat,
    InstanceSizeAggregate,
    MaintenanceJob,
    MaintenanceRun,
    PeriodType,
)
from capacity.services import aggregate as aggregation
from capacity.services.aggregate import aggregate, refresh_instance, run_aggregation
from capacity.services.periods import add_months, period_bounds

from .helpers import expected_periods, make_rows, size_of, stamp

pytestmark = pytest.mark.django_db

NAMES = ["orders", "billing", "audit"]


@pytest.fixture
def span():
    """From the first of the month four months back to yesterday: three whole months and a running one."""
    today = timezone.localdate()
    return add_months(today, -4), today - timedelta(days=1)


@pytest.fixture
def instance(make_instance):
    return make_instance("agg-primary", "mysql")


def _stored(model=DatabaseSizeAggregate, **filters):
    return {row.period_start: row for row in model.objects.filter(**filters)}


@pytest.mark.parametrize("period_type", PeriodType.values)
def test_aggregates_agree_with_the_daily_rows(instance, span, period_type):
    first, last = span
    make_rows(instance, NAMES, first, last)
    result = run_aggregation()
    assert result.mode == "full"
    today = timezone.localdate()
    for name in NAMES:
        samples = {d: size_of(name, d) for d in (first + timedelta(n) for n in range((last - first).days + 1))}
        expected = expected_periods(samples, period_type)
        stored = _stored(instance=instance, database_name=name, period_type=period_type)
        assert set(stored) == set(expected)
        for start, figures in expected.items():
            row = stored[start]
            for field, value in figures.items():
                assert getattr(row, field) == value, (name, start, field)
            assert row.is_complete == (figures["period_end"] < today)
            assert row.is_current == (not row.is_complete)


def test_monthly_periods_are_calendar_months_and_the_running_one_is_current(instance, span):
    first, last = span
    make_rows(instance, NAMES, first, last)
    run_aggregation()
    stored = _stored(instance=instance, database_name="orders", period_type="month")
    months = [stored[start] for start in sorted(stored)]
    assert [m.period_start for m in months] == [add_months(first, n) for n in range(len(months))]
    assert all(m.period_end == period_bounds("month", m.period_start)[1] for m in months)
    assert all(m.is_complete for m in months[:-1])
    assert months[-1].period_start == last.replace(day=1)
    # Yesterday's month is still running unless today is the first.
    assert months[-1].is_current == (timezone.localdate().day != 1)


def test_weeks_are_iso_weeks(instance):
    # 2025-12-29 is the Monday of ISO week 1 of 2026.
    make_rows(instance, ["orders"], date(2025, 12, 27), date(2026, 1, 6))
    aggregate(None, period_types=["week"])
    starts = sorted(_stored(instance=instance, period_type="week"))
    assert starts == [date(2025, 12, 22), date(2025, 12, 29), date(2026, 1, 5)]
    assert all(s.weekday() == 0 for s in starts)
    week1 = DatabaseSizeAggregate.objects.get(instance=instance, period_type="week", period_start=date(2025, 12, 29))
    assert week1.period_end == date(2026, 1, 4) and week1.sample_count == 7


def test_quarters(instance):
    make_rows(instance, ["orders"], date(2025, 3, 30), date(2025, 7, 2))
    aggregate(None, period_types=["quarter"])
    stored = _stored(instance=instance, period_type="quarter")
    assert sorted(stored) == [date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1)]
    assert stored[date(2025, 4, 1)].period_end == date(2025, 6, 30)
    assert stored[date(2025, 4, 1)].sample_count == 91
    assert [stored[d].sample_count for d in sorted(stored)] == [2, 91, 2]


def test_instance_aggregates_follow_the_totals(instance, span):
    first, last = span
    _stats, totals = make_rows(instance, NAMES, first, last)
    run_aggregation()
    samples = {t.collected_date: t.total_size_bytes for t in totals}
    expected = expected_periods(samples, "month")
    stored = _stored(InstanceSizeAggregate, instance=instance, period_type="month")
    assert set(stored) == set(expected)
    for start, figures in expected.items():
        for field, value in figures.items():
            assert getattr(stored[start], field) == value
        assert stored[start].last_database_count == len(NAMES)


def test_deleted_rows_are_not_samples_and_a_period_left_without_samples_loses_its_aggregate(instance):
    make_rows(instance, ["orders", "gone"], date(2025, 5, 1), date(2025, 5, 10))
    DatabaseSizeStat.objects.filter(database_name="orders", collected_date=date(2025, 5, 10)).update(
        is_deleted=True, size_bytes=1
    )
    aggregate(None, period_types=["month"])
    may = DatabaseSizeAggregate.objects.get(instance=instance, database_name="orders", period_type="month")
    assert may.sample_count == 9 and may.min_size_bytes > 1
    assert DatabaseSizeAggregate.objects.filter(database_name="gone").exists()

    DatabaseSizeStat.objects.filter(database_name="gone").update(is_deleted=True, collected_at=timezone.now())
    aggregate(timezone.now() - timedelta(minutes=1), period_types=["month"])
    assert not DatabaseSizeAggregate.objects.filter(database_name="gone").exists()
    assert DatabaseSizeAggregate.objects.filter(database_name="orders").count() == 1


def test_zero_first_size_gives_no_growth_rate(instance):
    make_rows(instance, ["empty"], date(2025, 5, 1), date(2025, 5, 3), size=lambda n, d: (d.day - 1) * 100)
    aggregate(None, period_types=["month"])
    row = DatabaseSizeAggregate.objects.get(instance=instance, database_name="empty")
    assert row.first_size_bytes == 0 and row.growth_bytes == 200 and row.growth_rate is None


def test_only_periods_with_new_rows_are_recomputed(instance, make_instance, span):
    other = make_instance("agg-other", "mysql")
    first, last = span
    make_rows(instance, NAMES, first, last - timedelta(days=1))
    make_rows(other, ["orders"], first, last - timedelta(days=1))
    run_aggregation()
    before = {
        (r.instance_id, r.database_name, r.period_type, r.period_start): r.computed_at
        for r in DatabaseSizeAggregate.objects.all()
    }

    # The next night: one new day for one instance, collected after the previous run.
    later = timezone.now() + timedelta(hours=1)
    make_rows(instance, NAMES, last, last, collected_at=later)
    MaintenanceRun.objects.filter(job=MaintenanceJob.AGGREGATION).update(
        watermark=later - timedelta(minutes=30), started_at=later - timedelta(minutes=30)
    )
    result = run_aggregation()
    assert result.mode == "incremental"
    changed = {
        key
        for key, at in (
            ((r.instance_id, r.database_name, r.period_type, r.period_start), r.computed_at)
            for r in DatabaseSizeAggregate.objects.all()
        )
        if before.get(key) != at
    }
    expected = {
        (instance.pk, name, period_type, period_bounds(period_type, last)[0])
        for name in NAMES
        for period_type in PeriodType.values
    }
    assert changed == expected
    assert result.database_periods == len(expected)
    assert result.instance_periods == len(PeriodType.values)
    month = DatabaseSizeAggregate.objects.get(
        instance=instance, database_name="orders", period_type="month", period_start=period_bounds("month", last)[0]
    )
    assert month.last_date == last and month.last_size_bytes == size_of("orders", last)


def test_incremental_run_with_nothing_new_writes_nothing(instance, span):
    first, last = span
    make_rows(instance, NAMES, first, last, collected_at=timezone.now() - timedelta(days=2))
    run_aggregation()
    result = run_aggregation()
    assert result.mode == "incremental"
    assert result.database_periods == result.instance_periods == result.removed == 0


def test_query_count_does_not_grow_with_rows_or_databases(make_instance):
    # The same seven months (on PostgreSQL a full run writes one statement per quarter of history).
    small = make_instance("agg-small", "mysql")
    make_rows(small, ["orders"], date(2024, 12, 1), date(2025, 6, 30))
    with CaptureQueriesContext(connection) as few:
        aggregate(None, instance_ids=[small.pk])
    big = make_instance("agg-big", "mysql")
    # 20 databases: 20 times the rows, still one upsert statement (under WRITE_BATCH) per period type.
    make_rows(big, [f"db{n}" for n in range(20)], date(2024, 12, 1), date(2025, 6, 30))
    with CaptureQueriesContext(connection) as many:
        aggregate(None, instance_ids=[big.pk])
    assert len(many.captured_queries) == len(few.captured_queries)


def test_periods_older_than_retention_keep_their_aggregates(instance):
    with override_settings(CAPACITY_RETENTION_DAYS=365):
        old_day = timezone.localdate() - timedelta(days=500)
        make_rows(instance, ["orders"], old_day, old_day + timedelta(days=2))
        aggregate(None, period_types=["month"])
        kept = DatabaseSizeAggregate.objects.get(instance=instance, period_type="month")
        # Part of that month's rows were already cleaned up; a rerun must not shrink its aggregate.
        DatabaseSizeStat.objects.filter(collected_date=old_day).delete()
        DatabaseSizeStat.objects.filter(instance=instance).update(collected_at=timezone.now())
        aggregate(timezone.now() - timedelta(minutes=1), period_types=["month"])
    again = DatabaseSizeAggregate.objects.get(instance=instance, period_type="month")
    assert (again.sample_count, again.computed_at) == (kept.sample_count, kept.computed_at) == (3, kept.computed_at)


def test_a_database_without_an_aggregate_of_an_old_period_gets_one_and_the_others_keep_theirs(instance):
    with override_settings(CAPACITY_RETENTION_DAYS=365):
        old_day = timezone.localdate() - timedelta(days=500)
        make_rows(instance, ["orders"], old_day, old_day + timedelta(days=2))
        aggregate(None, period_types=["month"])
        kept = DatabaseSizeAggregate.objects.get(instance=instance, period_type="month")
        make_rows(instance, ["billing"], old_day, old_day + timedelta(days=1))  # imported later
        DatabaseSizeStat.objects.filter(collected_date=old_day, database_name="orders").delete()
        aggregate(None, period_types=["month"])
    rows = {a.database_name: a for a in DatabaseSizeAggregate.objects.filter(instance=instance, period_type="month")}
    assert (rows["orders"].sample_count, rows["orders"].computed_at) == (3, kept.computed_at)
    assert rows["billing"].sample_count == 2


def test_finished_periods_are_closed_on_the_next_run(instance):
    make_rows(instance, ["orders"], date(2025, 5, 1), date(2025, 5, 3))
    aggregate(None, period_types=["month"])
    DatabaseSizeAggregate.objects.update(is_complete=False)
    InstanceSizeAggregate.objects.update(is_complete=False)
    result = aggregate(timezone.now(), period_types=["month"])
    assert result.closed == 2
    assert DatabaseSizeAggregate.objects.get().is_complete


def test_run_is_recorded_with_its_watermark(instance, span):
    make_rows(instance, ["orders"], *span)
    result = run_aggregation()
    run = MaintenanceRun.objects.get(job=MaintenanceJob.AGGREGATION)
    assert run.success is True and run.finished_at >= run.started_at
    assert run.watermark == run.started_at
    assert run.summary["database_periods"] == result.database_periods > 0


def test_failed_run_is_recorded_and_keeps_the_old_watermark(instance, monkeypatch):
    make_rows(instance, ["orders"], date(2025, 5, 1), date(2025, 5, 2))
    run_aggregation()
    watermark = MaintenanceRun.objects.get(job=MaintenanceJob.AGGREGATION).watermark

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(aggregation, "aggregate", broken)
    with pytest.raises(RuntimeError):
        run_aggregation()
    run = MaintenanceRun.objects.get(job=MaintenanceJob.AGGREGATION)
    assert run.success is False and "disk full" in run.error
    assert run.watermark == watermark


def test_refresh_instance_catches_up_after_a_collection(instance):
    assert refresh_instance(instance) is None  # nothing collected, nothing to do
    make_rows(instance, ["orders"], date(2025, 5, 1), date(2025, 5, 2))
    assert refresh_instance(instance).database_periods == 3
    instance.refresh_from_db()
    assert refresh_instance(instance) is None  # fresh: one query, no work

    day = date(2025, 5, 3)
    make_rows(instance, ["orders"], day, day, collected_at=timezone.now())
    type(instance).objects.filter(pk=instance.pk).update(last_connected=timezone.now())
    instance.refresh_from_db()
    assert refresh_instance(instance).database_periods == 3
    assert DatabaseSizeAggregate.objects.get(period_type="month").sample_count == 3


def test_stamp_helper_is_on_the_day():
    assert timezone.localdate(stamp(date(2025, 5, 3))) == date(2025, 5, 3)


@pytest.mark.django_db(transaction=True)
def test_the_full_catch_up_outside_a_transaction_agrees_with_the_daily_rows(make_instance, monkeypatch):
    """As the nightly job runs it: on PostgreSQL, quarters on two connections of their own.

    The history starts on a Wednesday (its first week began in the quarter before) and crosses
    quarters whose boundaries fall inside a week: each period is whole, none counted twice.
    """
    from capacity.services import aggregate_sql

    parallel = []
    real = aggregate_sql._in_parallel
    monkeypatch.setattr(aggregate_sql, "_in_parallel", lambda *a: parallel.append(len(a[3])) or real(*a))
    first, last = date(2025, 4, 2), date(2025, 10, 1)
    inst = make_instance("agg-full", "mysql")
    make_rows(inst, NAMES, first, last)
    result = run_aggregation(full=True)
    if connection.vendor == "postgresql":
        assert parallel == [4, 4]  # databases, then totals: 2025-Q1 (the week of 31 March) to 2025-Q4
    assert result.database_periods == _check_every_period(inst, first, last)


def test_one_instance_caught_up_in_one_pass_agrees_with_the_daily_rows(make_instance):
    """After an instance's first collection its whole history is aggregated at once (one window on
    PostgreSQL, however many quarters it spans)."""
    first, last = date(2025, 4, 2), date(2025, 10, 1)
    inst = make_instance("agg-one", "mysql")
    make_rows(inst, NAMES, first, last)
    result = aggregate(None, instance_ids=[inst.pk])
    assert result.database_periods == _check_every_period(inst, first, last)


def _check_every_period(inst, first: date, last: date) -> int:
    """Every week, month and quarter of NAMES' daily rows from first to last is stored with the figures
    the plain Python computation gives; returns how many there are."""
    written = 0
    for period_type in PeriodType.values:
        for name in NAMES:
            samples = {d: size_of(name, d) for d in (first + timedelta(n) for n in range((last - first).days + 1))}
            expected = expected_periods(samples, period_type)
            stored = _stored(instance=inst, database_name=name, period_type=period_type)
            assert set(stored) == set(expected), (name, period_type)
            for start, figures in expected.items():
                for field, value in figures.items():
                    assert getattr(stored[start], field) == value, (name, period_type, start, field)
            written += len(expected)
    return written
