"""The admin's capacity pages through the test client: status codes, permissions and what they show."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from capacity.models import DatabaseInventory, InstanceSizeStat
from common.formatting import human_bytes
from tests.ui.history import DatabasePlan, InstancePlan, write_history

pytestmark = pytest.mark.django_db


def _named(fleet, name):
    return next(i for i in fleet if i.name == name)


def _json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


def _latest_total(instance):
    return InstanceSizeStat.objects.filter(instance=instance).order_by("-collected_date").first().total_size_bytes


# --- admin index -------------------------------------------------------------------------------


def test_index_shows_the_capacity_summary(viewer_client, fleet):
    html = viewer_client.get(reverse("admin:index")).content.decode()
    assert 'id="capacity-summary"' in html
    fleet_total = sum(_latest_total(i) for i in fleet)
    assert human_bytes(fleet_total) in html
    assert "6 active, 1 failing" in html
    assert "1 instance failed in the last run" in html
    failing = _named(fleet, "wiki-mysql-02")
    assert reverse("admin:instances_instance_change", args=[failing.pk]) in html
    assert "Partial" in html  # the last session's status
    assert reverse("admin:capacity_dashboard") in html


def test_index_app_list_links_the_dashboard(viewer_client, fleet):
    html = viewer_client.get(reverse("admin:app_list", args=["capacity"])).content.decode()
    assert "Capacity dashboard" in html
    assert reverse("admin:capacity_dashboard") in html


def test_index_without_history_says_nothing_ran(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "No collection has run yet." in html


def test_index_summary_hidden_from_staff_without_instance_access(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(user)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="capacity-summary"' not in html


# --- instance list -----------------------------------------------------------------------------


def test_instance_list_columns_and_buttons(operator_client, fleet):
    response = operator_client.get(reverse("admin:instances_instance_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    orders = _named(fleet, "orders-mysql-01")
    assert human_bytes(_latest_total(orders)) in html
    for header in ("Growth 7 d / 30 d", "Last collection", "Server"):
        assert header in html
    assert reverse("admin:instances_instance_sync_capacity", args=[orders.pk]) in html
    assert reverse("admin:instances_instance_test_connection", args=[orders.pk]) in html
    assert reverse("admin:instances_instance_capacity", args=[orders.pk]) in html
    assert 'id="capacity-strings"' in html
    assert "capacity/js/instance_actions.js" in html
    assert "csrfmiddlewaretoken" in html
    # growth is shown signed and human-readable
    assert re.search(r'data-capacity-field="growth30">\+[\d.,]+ GiB<', html)
    # the bulk actions are still there
    assert "action_sync_capacity" in html and "action_test_connection" in html


def test_instance_list_hides_buttons_from_viewers(viewer_client, fleet):
    html = viewer_client.get(reverse("admin:instances_instance_changelist")).content.decode()
    assert "data-capacity-action" not in html
    assert "action_sync_capacity" not in html


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ("db_type__exact=postgresql", {"crm-pg-01", "logs-pg-02"}, {"orders-mysql-01"}),
        ("last_status=failed", {"wiki-mysql-02"}, {"crm-pg-01"}),
        ("last_status=completed", {"crm-pg-01"}, {"wiki-mysql-02"}),
        ("last_status=never", set(), {"crm-pg-01", "wiki-mysql-02"}),
        ("is_active__exact=1", {"orders-mysql-01", "wiki-mysql-02"}, set()),
    ],
)
def test_instance_list_filters(viewer_client, fleet, query, expected, absent):
    html = viewer_client.get(reverse("admin:instances_instance_changelist") + "?" + query).content.decode()
    for name in expected:
        assert f">{name}</a>" in html
    for name in absent:
        assert f">{name}</a>" not in html


def test_instance_list_orders_by_growth(viewer_client, fleet):
    url = reverse("admin:instances_instance_changelist")
    html = viewer_client.get(url).content.decode()
    # the 30-day growth column can be sorted on
    assert "o=" in html
    response = viewer_client.get(url + "?o=-5")
    assert response.status_code == 200
    names = re.findall(r'<th class="field-name"><a href="[^"]+">([^<]+)</a>', response.content.decode())
    assert names[0] == "logs-pg-02"  # grows fastest


def test_instance_list_query_count_does_not_grow_with_instances(viewer_client, fleet):
    url = reverse("admin:instances_instance_changelist")
    viewer_client.get(url)
    with CaptureQueriesContext(connection) as few:
        viewer_client.get(url)
    write_history(InstancePlan("extra-1", "mysql", [DatabasePlan("a", 1000, 10)], days=40))
    write_history(InstancePlan("extra-2", "postgresql", [DatabasePlan("b", 1000, 10)], days=40))
    with CaptureQueriesContext(connection) as more:
        viewer_client.get(url)
    assert len(more) == len(few)


# --- instance capacity page --------------------------------------------------------------------


def test_instance_capacity_page(viewer_client, fleet):
    orders = _named(fleet, "orders-mysql-01")
    response = viewer_client.get(reverse("admin:instances_instance_capacity", args=[orders.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Capacity of orders-mysql-01" in html
    for card in ("Total size", "Databases", "Largest database", "Growth over 30 days"):
        assert card in html
    assert human_bytes(_latest_total(orders)) in html
    largest = DatabaseInventory.objects.filter(instance=orders, is_deleted=False).order_by("-last_size_bytes").first()
    assert largest.database_name == "orders"
    assert human_bytes(largest.last_size_bytes) in html
    # every database, the dropped one greyed out with its date
    for name in ("orders", "order_archive", "payments", "coupons", "legacy_reports"):
        assert f'data-database-row="{name}"' in html
    assert re.search(r'<tr class="capacity-deleted" data-database-row="legacy_reports">', html)
    assert "dropped " in html
    # the chart's first points come with the page
    chart = _json_script(html, "instance-history-data")
    assert chart["range"] == "90d" and chart["period"] == "day"
    assert len(chart["labels"]) == 91
    assert chart["unit"] == "GiB"
    assert chart["datasets"][0]["human"][-1] == human_bytes(_latest_total(orders))
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "//cdn" not in html
    # no sync buttons for a viewer
    assert "data-capacity-action" not in html


def test_instance_capacity_page_for_operator_has_buttons(operator_client, fleet):
    orders = _named(fleet, "orders-mysql-01")
    html = operator_client.get(reverse("admin:instances_instance_capacity", args=[orders.pk])).content.decode()
    assert 'data-capacity-action="sync"' in html and 'data-capacity-action="test"' in html


def test_instance_capacity_page_without_history(admin_client, make_instance):
    instance = make_instance("empty-one", "mysql")
    response = admin_client.get(reverse("admin:instances_instance_capacity", args=[instance.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No databases collected yet." in html
    assert _json_script(html, "instance-history-data")["labels"] == []


def test_instance_capacity_page_unknown_and_forbidden(viewer_client, client, fleet, django_user_model):
    assert viewer_client.get(reverse("admin:instances_instance_capacity", args=[999999])).status_code == 404
    outsider = django_user_model.objects.create_user("outsider", password="x", is_staff=True)
    client.force_login(outsider)
    assert client.get(reverse("admin:instances_instance_capacity", args=[fleet[0].pk])).status_code == 403


def test_instance_capacity_page_needs_login(client, fleet):
    response = client.get(reverse("admin:instances_instance_capacity", args=[fleet[0].pk]))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_change_form_links_the_capacity_page(operator_client, fleet):
    orders = _named(fleet, "orders-mysql-01")
    html = operator_client.get(reverse("admin:instances_instance_change", args=[orders.pk])).content.decode()
    assert reverse("admin:instances_instance_capacity", args=[orders.pk]) in html
    assert 'data-capacity-action="sync"' in html


def test_change_form_shows_the_last_collection(operator_client, fleet):
    wiki = _named(fleet, "wiki-mysql-02")
    html = operator_client.get(reverse("admin:instances_instance_change", args=[wiki.pk])).content.decode()
    assert 'data-capacity-field="status">Failed<' in html
    assert human_bytes(_latest_total(wiki)) in html


def test_add_form_still_works(operator_client, admin_client):
    assert admin_client.get(reverse("admin:instances_instance_add")).status_code == 200
    response = admin_client.post(
        reverse("admin:instances_instance_add"),
        {"name": "new-one", "db_type": "mysql", "host": "db.example.com", "is_active": "on", "options": "{}"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]


# --- history JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "points"),
    [("range=30d&period=day", 31), ("range=90d&period=day", 91), ("range=all&period=day", 120)],
)
def test_instance_history_ranges(viewer_client, fleet, query, points):
    orders = _named(fleet, "orders-mysql-01")
    url = reverse("admin:instances_instance_capacity_history", args=[orders.pk])
    data = viewer_client.get(f"{url}?{query}").json()
    assert data["success"] is True
    assert len(data["labels"]) == points
    assert len(data["datasets"][0]["values"]) == points


def test_instance_history_weekly_and_monthly_come_from_the_aggregates(viewer_client, fleet):
    from capacity.models import InstanceSizeAggregate

    orders = _named(fleet, "orders-mysql-01")
    url = reverse("admin:instances_instance_capacity_history", args=[orders.pk])
    weekly = viewer_client.get(url + "?range=all&period=week").json()
    monthly = viewer_client.get(url + "?range=all&period=month").json()
    assert 17 <= len(weekly["labels"]) <= 19
    assert 4 <= len(monthly["labels"]) <= 6
    stored = InstanceSizeAggregate.objects.filter(instance=orders, period_type="month").order_by("period_start")
    assert [human_bytes(a.avg_size_bytes) for a in stored] == monthly["datasets"][0]["human"]
    assert "average" in monthly["datasets"][0]["label"]


def test_instance_history_of_one_database(viewer_client, fleet):
    orders = _named(fleet, "orders-mysql-01")
    url = reverse("admin:instances_instance_capacity_history", args=[orders.pk])
    data = viewer_client.get(url + "?range=all&period=day&database=payments").json()
    assert data["database"] == "payments"
    assert len(data["labels"]) == 120
    latest = DatabaseInventory.objects.get(instance=orders, database_name="payments").last_size_bytes
    assert data["datasets"][0]["human"][-1] == human_bytes(latest)
    dropped = viewer_client.get(url + "?range=all&database=legacy_reports").json()
    assert len(dropped["labels"]) == 120 - 12  # nothing after the day it vanished


@pytest.mark.parametrize(
    ("query", "status", "needle"),
    [
        ("range=2w", 400, "Unknown range '2w'"),
        ("period=hourly", 400, "Unknown period 'hourly'"),
        ("database=nope", 404, "no database named 'nope'"),
    ],
)
def test_instance_history_rejects_bad_input(viewer_client, fleet, query, status, needle):
    url = reverse("admin:instances_instance_capacity_history", args=[fleet[0].pk])
    response = viewer_client.get(f"{url}?{query}")
    assert response.status_code == status
    assert response.json()["success"] is False
    assert needle in response.json()["error"]


def test_instance_history_unknown_instance(viewer_client):
    response = viewer_client.get(reverse("admin:instances_instance_capacity_history", args=[424242]))
    assert response.status_code == 404
    assert response.json()["success"] is False


# --- dashboard ---------------------------------------------------------------------------------


def test_dashboard(viewer_client, fleet):
    response = viewer_client.get(reverse("admin:capacity_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for section in (
        "top-instances-size",
        "top-instances-growth",
        "top-databases-size",
        "top-databases-growth",
        "capacity-db-types",
        "recent-sessions",
        "fleet-history",
    ):
        assert f'id="{section}"' in html
    # the largest instance and database come first in their tables
    assert re.search(
        r'id="top-instances-size">.*?<td class="capacity-rank">1</td>\s*<td><a [^>]+>logs-pg-02<', html, re.S
    )
    assert re.search(r'id="top-databases-size">.*?<td class="capacity-rank">1</td>\s*<td><a [^>]+>events<', html, re.S)
    assert "Oracle" in html and "SQL Server" in html and "PostgreSQL" in html
    fleet_chart = _json_script(html, "fleet-history-data")
    assert len(fleet_chart["labels"]) == 91
    assert fleet_chart["datasets"][0]["human"][-1] == human_bytes(sum(_latest_total(i) for i in fleet))
    types = _json_script(html, "db-type-chart-data")
    assert len(types["labels"]) == 4
    assert html.count("sync_sessions/syncsession/") >= 5  # the last sessions link to their records
    assert "//cdn" not in html


def test_dashboard_with_nothing_collected(admin_client):
    response = admin_client.get(reverse("admin:capacity_dashboard"))
    assert response.status_code == 200
    assert "No collection has run yet." in response.content.decode()


def test_dashboard_needs_view_permission(client, django_user_model, fleet):
    outsider = django_user_model.objects.create_user("outsider", password="x", is_staff=True)
    client.force_login(outsider)
    assert client.get(reverse("admin:capacity_dashboard")).status_code == 403
    assert client.get(reverse("admin:capacity_dashboard_history")).status_code == 403


def test_dashboard_history(viewer_client, fleet):
    url = reverse("admin:capacity_dashboard_history")
    daily = viewer_client.get(url + "?range=all&period=day").json()
    monthly = viewer_client.get(url + "?range=1y&period=month").json()
    assert len(daily["labels"]) == 120
    assert 4 <= len(monthly["labels"]) <= 6
    bad = viewer_client.get(url + "?range=forever")
    assert bad.status_code == 400 and "forever" in bad.json()["error"]


# --- sync sessions -----------------------------------------------------------------------------


def test_sync_session_list_and_detail(viewer_client, fleet):
    from sync_sessions.models import SyncSession

    response = viewer_client.get(reverse("admin:sync_sessions_syncsession_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "capacity-status-partial" in html
    assert re.search(r"\d+\.\d s", html)  # durations read as seconds
    assert "5 / 6" in html
    session = SyncSession.objects.order_by("-started_at").first()
    detail = viewer_client.get(reverse("admin:sync_sessions_syncsession_change", args=[session.pk])).content.decode()
    assert human_bytes(session.total_size_bytes) in detail
    for instance in fleet:
        assert reverse("admin:instances_instance_capacity", args=[instance.pk]) in detail
    assert "Can&#x27;t connect to server" in detail


def test_instance_record_list(viewer_client, fleet):
    response = viewer_client.get(reverse("admin:sync_sessions_syncinstancerecord_changelist"))
    assert response.status_code == 200
    assert "capacity-status-failed" in response.content.decode()


@pytest.mark.django_db
def test_instance_capacity_page_marks_a_carried_over_database(viewer_client, make_instance):
    from tests.factories import at, record_collection

    inst = make_instance("carrier", "mysql")
    today = timezone.localdate()
    record_collection(inst, at(today - timedelta(days=1)), {"sales": 100, "locked": 40})
    record_collection(inst, at(today), {"sales": 120}, unreadable=["locked"])
    html = viewer_client.get(reverse("admin:instances_instance_capacity", args=[inst.pk])).content.decode()
    row = re.search(r'data-database-row="locked">(.*?)</tr>', html, re.S).group(1)
    assert "capacity-tag-carried" in row and "carried over" in row
    assert "capacity-tag-carried" not in re.search(r'data-database-row="sales">(.*?)</tr>', html, re.S).group(1)
