"""Issue 12 wording: counts in plural forms, one date format per page, durations under a second."""

import pytest
from django.utils import formats, timezone

from capacity.models import DatabaseInventory
from common import formatting as admin_views
from tests.ui.history import write_fleet


def test_durations_under_a_second_are_milliseconds():
    assert admin_views.human_duration(0.039) == "39 ms"
    assert admin_views.human_duration(0) == "0 ms"
    assert admin_views.human_duration(0.0004) == "0 ms"
    assert admin_views.human_duration(0.9996) == "1.0 s"  # rounds into seconds, never "1000 ms"
    assert admin_views.human_duration(1.99) == "2.0 s"  # rounded, not cut to "1.9 s"
    assert admin_views.human_duration(59.9) == "59.9 s"
    assert admin_views.human_duration(59.97) == "1 min 0 s"


@pytest.mark.django_db
def test_inventory_count_reads_as_a_plural(admin_client):
    write_fleet(days=3)
    count = DatabaseInventory.objects.count()
    page = admin_client.get("/admin/capacity/databaseinventory/").content.decode()
    assert f"{count} databases in inventory" in page
    logs = DatabaseInventory.objects.get(instance__name="logs-pg-02")  # the instance with one database
    page = admin_client.get(f"/admin/capacity/databaseinventory/?instance__id__exact={logs.instance_id}")
    assert "1 database in inventory" in page.content.decode()


@pytest.mark.django_db
def test_capacity_page_writes_every_date_and_time_one_way(admin_client):
    fleet = write_fleet(days=20)
    orders = next(i for i in fleet if i.name == "orders-mysql-01")
    dropped = DatabaseInventory.objects.get(instance=orders, database_name="legacy_reports")
    page = admin_client.get(f"/admin/instances/instance/{orders.pk}/capacity/").content.decode()
    local = timezone.localtime(dropped.deleted_at)
    assert f"dropped {formats.date_format(local, 'DATETIME_FORMAT')}" in page
    assert formats.date_format(local, "SHORT_DATETIME_FORMAT") not in page


@pytest.mark.django_db
def test_a_run_of_one_instance_reads_in_the_singular(admin_client, make_instance):
    from capacity.services.collect import create_session, finalize_session
    from sync_sessions.choices import RecordStatus

    session = create_session([make_instance("solo", "mysql")])
    session.records.update(status=RecordStatus.COMPLETED)
    finalize_session(session)
    index = admin_client.get("/admin/").content.decode()
    assert "1 of 1 instance, " in index and "1 of 1 instances" not in index
    dashboard = admin_client.get("/admin/capacity/instancesizestat/dashboard/").content.decode()
    assert "1 of 1 instance" in dashboard
    assert "1 of 1 instances" not in dashboard
