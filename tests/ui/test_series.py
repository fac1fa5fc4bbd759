"""The numbers behind the charts and cards: units, periods, the fleet curve and growth."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from capacity import charts, queries
from common import formatting
from instances.models import Instance
from tests.factories import at, record_collection
from tests.ui.history import GIB, MIB, DatabasePlan, InstancePlan, write_history


@pytest.mark.parametrize(
    ("values", "unit"),
    [([0, 10], "B"), ([1023], "B"), ([1024], "KiB"), ([5 * MIB, 2], "MiB"), ([3 * GIB, None], "GiB"), ([], "B")],
)
def test_chart_unit(values, unit):
    assert charts.chart_unit(values)[1] == unit


def test_chart_payload_scales_to_one_unit_and_keeps_exact_text():
    payload = charts.chart_payload(["a", "b", "c"], [("Total", [GIB, None, 3 * GIB // 2])], period="day")
    assert payload["unit"] == "GiB"
    assert payload["datasets"][0]["values"] == [1.0, None, 1.5]
    assert payload["datasets"][0]["human"] == ["1.00 GiB", "—", "1.50 GiB"]
    assert payload["period"] == "day"


def test_average_by_period():
    monday = date(2025, 3, 3)
    points = [(monday + timedelta(days=n), 100 + n) for n in range(10)]
    weekly = queries.average_by_period(points, "week")
    assert weekly == [(monday, 103), (monday + timedelta(days=7), 108)]
    monthly = queries.average_by_period(
        [(date(2025, 1, 31), 10), (date(2025, 2, 1), 20), (date(2025, 2, 2), 40)], "month"
    )
    assert monthly == [(date(2025, 1, 1), 10), (date(2025, 2, 1), 30)]
    assert queries.average_by_period(points, "day") == points


@pytest.mark.django_db
def test_fleet_curve_carries_a_missed_night_but_drops_a_silent_instance():
    today = timezone.localdate()
    a = Instance.objects.create(name="a", db_type="mysql", host="h")
    b = Instance.objects.create(name="b", db_type="mysql", host="h")
    for offset in range(30, -1, -1):
        day = today - timedelta(days=offset)
        record_collection(a, at(day), {"db": 100})
        # b misses two nights (offsets 20, 19) and then falls silent for good after offset 12
        if offset not in (20, 19) and offset >= 12:
            record_collection(b, at(day), {"db": 50})
    points = dict(queries.fleet_series("all", "day"))
    assert points[today - timedelta(days=20)] == 150  # missed night carried
    assert points[today - timedelta(days=12)] == 150
    assert points[today - timedelta(days=12 - queries.FLEET_CARRY_DAYS)] == 150
    assert points[today - timedelta(days=12 - queries.FLEET_CARRY_DAYS - 1)] == 100  # b dropped out
    assert points[today] == 100


@pytest.mark.django_db
def test_growth_needs_history_that_old():
    young = write_history(InstancePlan("young", "mysql", [DatabasePlan("x", GIB, MIB)], days=5))
    old = write_history(InstancePlan("old", "mysql", [DatabasePlan("x", GIB, MIB)], days=40))
    rows = {i.name: i for i in queries.annotate_instance_capacity(Instance.objects.all())}
    assert rows["young"].growth_7d_bytes is None and rows["young"].growth_30d_bytes is None
    assert rows["old"].growth_30d_bytes > 25 * MIB
    assert formatting.signed_bytes(rows["young"].growth_7d_bytes) == "—"
    assert formatting.signed_bytes(rows["old"].growth_30d_bytes).startswith("+")
    assert young.pk and old.pk


@pytest.mark.django_db
def test_instances_with_capacity_give_the_annotated_figures():
    write_history(InstancePlan("young", "mysql", [DatabasePlan("x", GIB, MIB)], days=5))
    write_history(InstancePlan("old", "mysql", [DatabasePlan("x", GIB, MIB), DatabasePlan("y", GIB, 0)], days=40))
    Instance.objects.create(name="never", db_type="mysql", host="db.example.com", port=3306)
    annotated = {i.name: i for i in queries.annotate_instance_capacity(Instance.objects.all())}
    listed = {i.name: i for i in queries.instances_with_capacity(Instance.objects.all(), windows=(7, 30))}
    assert set(listed) == set(annotated) == {"young", "old", "never"}
    for name, row in listed.items():
        for attr in ("latest_total_bytes", "latest_db_count", "latest_user_total_bytes", "growth_7d_bytes"):
            assert getattr(row, attr) == getattr(annotated[name], attr), (name, attr)
        assert row.growth_30d_bytes == annotated[name].growth_30d_bytes, name


def test_human_duration():
    assert formatting.human_duration(None) == "—"
    assert formatting.human_duration(2.34) == "2.3 s"
    assert formatting.human_duration(125) == "2 min 5 s"
    assert formatting.human_duration(3 * 3600 + 120) == "3 h 2 min"


def test_growth_percent_is_relative_to_the_starting_size():
    assert formatting.growth_percent(50, 150) == "+50.0%"
    assert formatting.growth_percent(-50, 50) == "-50.0%"
    assert formatting.growth_percent(None, 10) == ""
