"""capacity.services.forecast on generated daily rows: the regression, the forecasts, days until full."""

import statistics
from datetime import date, timedelta

import pytest

from capacity.models import DatabaseSizeStat
from capacity.services.forecast import days_until_full, forecast_instance

from .conftest import MiB, add_history

pytestmark = pytest.mark.django_db

END = date(2025, 6, 30)


def growing(start_mib, mib_per_day):
    return lambda i: (start_mib + mib_per_day * i) * MiB


def by_name(forecast):
    return {db.database_name: db for db in forecast.databases}


def test_exactly_one_mib_a_day(make_target):
    inst = make_target("orders")
    add_history(inst, END, 30, {"sales": growing(100, 1)})
    forecast = forecast_instance(inst)
    sales = by_name(forecast)["sales"]
    assert sales.growth_bytes_per_day == 1048576
    assert sales.current_size_bytes == 129 * MiB
    assert sales.predicted_size_bytes_30d == 159 * MiB
    assert sales.predicted_size_bytes_90d == 219 * MiB
    assert sales.sample_count == 30
    assert (sales.window_start, sales.window_end) == (date(2025, 6, 1), END)
    assert (forecast.days, forecast.window_start, forecast.window_end) == (30, date(2025, 6, 1), END)
    # The instance total is the one database here, so it says the same.
    assert forecast.instance.growth_bytes_per_day == 1048576
    assert forecast.instance.predicted_size_bytes_90d == 219 * MiB
    assert forecast.instance.sample_count == 30


def test_instance_trend_is_the_trend_of_its_totals(make_target):
    inst = make_target("orders")
    add_history(inst, END, 30, {"a": growing(10, 1), "b": growing(500, 3), "c": lambda i: 7 * MiB})
    forecast = forecast_instance(inst)
    assert forecast.instance.growth_bytes_per_day == 4 * MiB
    assert forecast.instance.current_size_bytes == (39 + 587 + 7) * MiB
    assert forecast.instance.predicted_size_bytes_30d == (39 + 587 + 7 + 120) * MiB
    assert {name: db.growth_bytes_per_day for name, db in by_name(forecast).items()} == {
        "a": MiB,
        "b": 3 * MiB,
        "c": 0,
    }


def test_flat(make_target):
    inst = make_target("flat", capacity_limit_bytes=80 * MiB)
    add_history(inst, END, 30, {"archive": lambda i: 50 * MiB})
    forecast = forecast_instance(inst)
    archive = by_name(forecast)["archive"]
    assert archive.growth_bytes_per_day == 0
    assert archive.predicted_size_bytes_30d == archive.predicted_size_bytes_90d == 50 * MiB
    assert forecast.instance.days_until_full is None  # not growing: never full


def test_shrinking_never_predicts_below_zero(make_target):
    inst = make_target("shrinking", capacity_limit_bytes=500 * MiB)
    add_history(inst, END, 30, {"staging": growing(100, -2)})
    forecast = forecast_instance(inst)
    staging = by_name(forecast)["staging"]
    assert staging.growth_bytes_per_day == -2 * MiB
    assert staging.current_size_bytes == 42 * MiB
    assert staging.predicted_size_bytes_30d == 0  # 42 - 60 MiB
    assert staging.predicted_size_bytes_90d == 0
    assert forecast.instance.days_until_full is None


def test_shrinking_slowly_predicts_the_rest(make_target):
    inst = make_target("shrinking")
    add_history(inst, END, 10, {"staging": growing(500, -1)})
    staging = by_name(forecast_instance(inst, days=10))["staging"]
    assert staging.predicted_size_bytes_30d == (491 - 30) * MiB
    assert staging.predicted_size_bytes_90d == (491 - 90) * MiB


def test_a_single_sample_gives_no_trend(make_target):
    inst = make_target("fresh", capacity_limit_bytes=10 * MiB)
    add_history(inst, END, 1, {"new": lambda i: 5 * MiB})
    forecast = forecast_instance(inst)
    new = by_name(forecast)["new"]
    assert new.sample_count == 1 and new.current_size_bytes == 5 * MiB
    assert new.growth_bytes_per_day is None
    assert new.predicted_size_bytes_30d is None and new.predicted_size_bytes_90d is None
    assert (new.window_start, new.window_end) == (END, END)
    assert forecast.instance.growth_bytes_per_day is None
    assert forecast.instance.days_until_full is None


def test_a_single_sample_already_over_the_limit_is_full(make_target):
    inst = make_target("fresh", capacity_limit_bytes=4 * MiB)
    add_history(inst, END, 1, {"new": lambda i: 5 * MiB})
    assert forecast_instance(inst).instance.days_until_full == 0


def test_a_database_new_in_the_window_is_fitted_on_its_own_days(make_target):
    inst = make_target("orders")
    add_history(inst, END, 30, {"sales": growing(100, 1), "late": lambda i: None if i < 25 else (i - 20) * MiB})
    late = by_name(forecast_instance(inst))["late"]
    assert late.sample_count == 5
    assert late.window_start == END - timedelta(days=4)
    assert late.growth_bytes_per_day == MiB


@pytest.mark.parametrize(
    "limit_mib, expected",
    [
        (200, 71),  # 129 MiB now, 1 MiB a day: 71 days to 200 MiB
        (129.5, 1),  # half a day of room: full during the first day
        (159, 30),
        (129, 0),  # exactly at the limit
        (100, 0),  # already over
        (None, None),  # no limit, nothing to count down to
    ],
)
def test_days_until_full(make_target, limit_mib, expected):
    limit = None if limit_mib is None else int(limit_mib * MiB)
    inst = make_target("orders", capacity_limit_bytes=limit)
    add_history(inst, END, 30, {"sales": growing(100, 1)})
    instance = forecast_instance(inst).instance
    assert instance.days_until_full == expected
    assert instance.capacity_limit_bytes == limit


def test_days_until_full_rules():
    assert days_until_full(current=10, slope=None, limit=None) is None
    assert days_until_full(current=None, slope=1, limit=10) is None
    assert days_until_full(current=10, slope=None, limit=10) == 0
    assert days_until_full(current=9, slope=0, limit=10) is None
    assert days_until_full(current=9, slope=-5, limit=10) is None
    assert days_until_full(current=0, slope=3, limit=10) == 4


def test_only_the_window_counts(make_target):
    inst = make_target("orders")
    # 30 flat days at 100 MiB, then 30 days growing 1 MiB a day.
    add_history(inst, END, 60, {"sales": lambda i: 100 * MiB if i < 30 else (100 + i - 29) * MiB})
    last_month = forecast_instance(inst, days=30)
    assert by_name(last_month)["sales"].growth_bytes_per_day == MiB
    assert by_name(last_month)["sales"].sample_count == 30
    two_months = forecast_instance(inst, days=60)
    assert by_name(two_months)["sales"].sample_count == 60
    assert 0 < by_name(two_months)["sales"].growth_bytes_per_day < MiB
    assert two_months.window_start == END - timedelta(days=59)


def test_missing_days_are_spaced_by_date_not_by_row(make_target):
    inst = make_target("orders")
    add_history(inst, END, 30, {"sales": growing(100, 1)}, skip={3, 4, 10, 17})
    sales = by_name(forecast_instance(inst))["sales"]
    assert sales.sample_count == 26
    assert sales.growth_bytes_per_day == MiB


def test_the_window_ends_on_the_latest_collection_not_today(make_target):
    inst = make_target("orders")
    add_history(inst, date(2024, 1, 31), 30, {"sales": growing(100, 1)})
    forecast = forecast_instance(inst, days=7)
    assert (forecast.window_start, forecast.window_end) == (date(2024, 1, 25), date(2024, 1, 31))
    assert by_name(forecast)["sales"].sample_count == 7


def test_noisy_history_matches_a_reference_least_squares_fit(make_target):
    inst = make_target("orders")
    noise = [3, -7, 11, 0, -2, 9, -13, 5, 1, -4, 8, -6, 2, 12, -9, 4, -1, 7, -11, 6]
    add_history(inst, END, 20, {"sales": lambda i: 1_000_000_000 + 12_345 * i + noise[i] * 10_000})
    sales = by_name(forecast_instance(inst, days=20))["sales"]
    xs = list(range(20))
    ys = [1_000_000_000 + 12_345 * i + noise[i] * 10_000 for i in xs]
    slope, _intercept = statistics.linear_regression(xs, ys)
    assert sales.growth_bytes_per_day == pytest.approx(slope, abs=0.01)
    assert sales.predicted_size_bytes_30d == round(ys[-1] + slope * 30)


def test_dropped_databases_and_deleted_rows_are_left_out(make_target):
    inst = make_target("orders")
    add_history(inst, END, 30, {"sales": growing(100, 1), "old": lambda i: 10 * MiB if i < 28 else None})
    # The collection marked "old" deleted on the day it vanished.
    assert DatabaseSizeStat.objects.get(
        instance=inst, database_name="old", collected_date=END - timedelta(days=1)
    ).is_deleted
    assert list(by_name(forecast_instance(inst))) == ["sales"]


def test_a_database_deleted_on_the_latest_collection_is_not_live(make_target):
    inst = make_target("orders")
    add_history(inst, END, 30, {"sales": growing(100, 1), "gone": lambda i: 10 * MiB})
    DatabaseSizeStat.objects.filter(instance=inst, database_name="gone", collected_date=END).update(is_deleted=True)
    assert list(by_name(forecast_instance(inst))) == ["sales"]


def test_other_instances_do_not_leak_in(make_target):
    inst, other = make_target("orders"), make_target("other")
    add_history(inst, END, 30, {"sales": growing(100, 1)})
    add_history(other, END + timedelta(days=5), 40, {"sales": growing(1, 50)})
    forecast = forecast_instance(inst)
    assert forecast.window_end == END
    assert by_name(forecast)["sales"].growth_bytes_per_day == MiB


def test_never_collected(make_target):
    inst = make_target("new", capacity_limit_bytes=MiB)
    forecast = forecast_instance(inst)
    assert forecast.databases == []
    assert forecast.window_start is None and forecast.window_end is None
    assert forecast.instance.sample_count == 0
    assert forecast.instance.growth_bytes_per_day is None
    assert forecast.instance.days_until_full is None
    assert forecast.instance.capacity_limit_bytes == MiB


@pytest.mark.parametrize("databases", [1, 40])
def test_two_queries_whatever_the_database_count(make_target, databases, django_assert_num_queries):
    inst = make_target("orders")
    add_history(inst, END, 30, {f"db{n:02}": growing(n, 1) for n in range(databases)})
    with django_assert_num_queries(2):
        forecast = forecast_instance(inst)
    assert len(forecast.databases) == databases


@pytest.mark.parametrize("days", [0, 6, 731])
def test_the_window_is_bounded(make_target, days):
    with pytest.raises(ValueError, match="days"):
        forecast_instance(make_target("orders"), days=days)


def test_days_until_full_counts_from_the_allocated_bytes_where_known(make_target):
    # 129 MiB logical, 139 MiB on disk, 1 MiB a day, 159 MiB of disk: 20 days of room, not 30.
    inst = make_target("orders", capacity_limit_bytes=159 * MiB)
    add_history(inst, END, 30, {"sales": growing(100, 1), "logs": lambda i: 0})
    DatabaseSizeStat.objects.filter(instance=inst, database_name="sales", collected_date=END).update(
        allocated_size_bytes=139 * MiB
    )
    trend = forecast_instance(inst).instance
    assert trend.footprint_bytes == 139 * MiB
    assert trend.days_until_full == 20
    assert trend.growth_bytes_per_day == 1048576  # growth still from the logical sizes


def test_a_long_window_streams_and_says_what_a_short_one_says(make_target):
    # 60 days of history: a 92-day window (read at once) and a 200-day one (streamed) see the same rows.
    inst = make_target("orders")
    add_history(inst, END, 60, {"sales": growing(100, 1), "logs": growing(50, 2)})
    short, long = forecast_instance(inst, days=92), forecast_instance(inst, days=200)
    assert by_name(short) == by_name(long) and short.instance == long.instance
    assert by_name(long)["logs"].sample_count == 60
