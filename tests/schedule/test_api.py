"""GET .../database-sizes/aggregations/, GET /api/capacity/status/, POST /api/capacity/partitions/cleanup/."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from capacity import schedules
from capacity.models import DatabaseSizeAggregate, DatabaseSizeStat, MaintenanceJob, MaintenanceRun
from capacity.services.aggregate import run_aggregation
from capacity.signals import collection_finished
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncSession
from tests.factories import record_collection, record_history

from .helpers import days, make_rows, size_of, stamp

pytestmark = pytest.mark.django_db


def url(instance_id):
    return f"/api/instances/{instance_id}/database-sizes/aggregations/"


@pytest.fixture
def instance(make_instance):
    inst = make_instance("api-agg", "postgresql")
    record_history(
        inst,
        [
            (stamp(day), {name: size_of(name, day) for name in ("orders", "billing")})
            for day in days(date(2025, 1, 1), date(2025, 4, 30))
        ],
    )
    return inst


def test_monthly_aggregations_per_database(api, instance):
    response = api("viewer").get(url(instance.pk), {"period": "month"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 8 and body["next"] is None
    first = body["results"][0]
    assert (first["period_start"], first["period_end"], first["database_name"]) == (
        "2025-01-01",
        "2025-01-31",
        "billing",
    )
    january = [size_of("billing", date(2025, 1, d)) for d in range(1, 32)]
    assert first["avg_size_bytes"] == round(sum(january) / 31)
    assert first["max_size_bytes"] == max(january) and first["min_size_bytes"] == min(january)
    assert first["growth_bytes"] == january[-1] - january[0]
    assert first["growth_rate"] == round((january[-1] - january[0]) * 100 / january[0], 2)
    assert first["sample_count"] == 31
    assert first["avg_size_mb"] == round(first["avg_size_bytes"] / 1048576, 2)
    assert first["growth_mb"] == round(first["growth_bytes"] / 1048576, 2)
    assert first["is_complete"] is True and first["is_current"] is False


def test_week_and_quarter_and_default_month(api, instance):
    client = api("viewer")
    weeks = client.get(url(instance.pk), {"period": "week", "page_size": 1000}).json()
    assert all(date.fromisoformat(r["period_start"]).weekday() == 0 for r in weeks["results"])
    assert weeks["count"] == 2 * 18  # 2024-12-30 .. 2025-04-28: 18 ISO weeks
    quarters = client.get(url(instance.pk), {"period": "quarter"}).json()
    assert [(r["period_start"], r["database_name"]) for r in quarters["results"]] == [
        ("2025-01-01", "billing"),
        ("2025-01-01", "orders"),
        ("2025-04-01", "billing"),
        ("2025-04-01", "orders"),
    ]
    assert client.get(url(instance.pk)).json()["count"] == 8


def test_filters_and_pagination(api, instance):
    client = api("viewer")
    body = client.get(
        url(instance.pk),
        {"period": "month", "start_date": "2025-02-15", "end_date": "2025-03-01", "database_name": "orders"},
    ).json()
    assert [r["period_start"] for r in body["results"]] == ["2025-02-01", "2025-03-01"]
    page = client.get(url(instance.pk), {"period": "month", "page_size": 3, "page": 2}).json()
    assert page["count"] == 8 and len(page["results"]) == 3 and page["previous"] and page["next"]


@pytest.mark.parametrize(
    ("params", "field", "needle"),
    [
        ({"period": "year"}, "period", "year"),
        ({"period": "month", "start_date": "2025-13-01"}, "start_date", "format"),
        ({"period": "month", "start_date": "2025-03-01", "end_date": "2025-02-01"}, "end_date", "start_date"),
    ],
)
def test_bad_query_is_a_400_naming_the_problem(api, instance, params, field, needle):
    response = api("viewer").get(url(instance.pk), params)
    assert response.status_code == 400
    assert needle in " ".join(response.json()[field])


def test_unknown_instance_is_404_and_permissions_apply(api, instance):
    assert api("viewer").get(url(999999)).status_code == 404
    assert api("anonymous").get(url(instance.pk)).status_code == 401
    assert api("nobody").get(url(instance.pk)).status_code == 403
    assert api("nobody").get(url(999999)).status_code == 403  # ids do not leak


def test_a_get_never_writes_and_a_finished_run_brings_the_aggregates_up_to_date(api, instance):
    client = api("viewer")
    today = timezone.localdate()
    record_collection(instance, timezone.now(), {"orders": 5_000_000})  # saved; its run has not finished yet
    stored = sorted(DatabaseSizeAggregate.objects.values_list("pk", "computed_at"))
    assert client.get(url(instance.pk), {"start_date": today.isoformat()}).json()["results"] == []
    assert sorted(DatabaseSizeAggregate.objects.values_list("pk", "computed_at")) == stored  # the GET wrote nothing

    session = SyncSession.objects.create(sync_type=SyncType.MANUAL, status=SessionStatus.COMPLETED)
    session.records.create(instance=instance, instance_name=instance.name, status=RecordStatus.COMPLETED)
    collection_finished.send(sender=None, session=session)
    body = client.get(url(instance.pk), {"start_date": today.isoformat()}).json()
    assert [(r["database_name"], r["sample_count"], r["is_current"]) for r in body["results"]] == [("orders", 1, True)]


def test_status_reports_schedules_runs_sessions_and_partitions(api, make_instance):
    client = api("viewer")
    body = client.get("/api/capacity/status/").json()
    collection = body["collection"]
    assert collection["schedule"]["cron"] == "0 3 * * *" and collection["schedule"]["scheduled"] is True
    next_run = Schedule.objects.get(name=schedules.COLLECTION).next_run
    assert datetime.fromisoformat(collection["schedule"]["next_run"]) == next_run
    assert collection["last_session"] is None and collection["last_scheduled_session"] is None
    assert body["aggregation"]["last_run"] is None and body["retention"]["last_run"] is None
    assert body["retention"]["retention_days"] == 730
    assert body["retention"]["cutoff_date"] == (timezone.localdate() - timedelta(days=730)).isoformat()
    assert body["aggregation"]["schedule"]["cron"] == "30 3 * * *"
    assert body["task_queue"]["broker"] in ("orm", "redis")

    partitions = body["partitions"]
    if connection.vendor == "postgresql":
        assert partitions["enabled"] is True
        names = [p["name"] for p in partitions["partitions"]]
        assert "capacity_databasesizestat_default" in names
        assert f"capacity_databasesizestat_p{timezone.localdate():%Y_%m}" in names
        assert partitions["next_to_create"]["name"] not in names
    else:
        assert partitions["enabled"] is False and partitions["partitions"] == []
        assert "not used" in partitions["detail"]

    scheduled = SyncSession.objects.create(sync_type=SyncType.SCHEDULED, status=SessionStatus.COMPLETED)
    manual = SyncSession.objects.create(sync_type=SyncType.MANUAL, status=SessionStatus.RUNNING)
    inst = make_instance("status-agg", "mysql")
    make_rows(inst, ["orders"], date(2025, 1, 1), date(2025, 1, 2))
    run_aggregation()
    body = client.get("/api/capacity/status/").json()
    assert body["collection"]["last_session"]["session_id"] == str(manual.session_id)
    assert body["collection"]["last_scheduled_session"]["session_id"] == str(scheduled.session_id)
    last = body["aggregation"]["last_run"]
    assert last["success"] is True and last["summary"]["database_periods"] == 3


def test_status_shows_a_paused_schedule_without_next_run(api):
    Schedule.objects.filter(name=schedules.RETENTION).update(repeats=0)
    body = api("viewer").get("/api/capacity/status/").json()
    assert body["retention"]["schedule"]["paused"] is True and body["retention"]["schedule"]["next_run"] is None


def test_status_needs_the_view_permission(api):
    assert api("anonymous").get("/api/capacity/status/").status_code == 401
    assert api("nobody").get("/api/capacity/status/").status_code == 403


@override_settings(CAPACITY_RETENTION_DAYS=365)
def test_cleanup_endpoint_says_what_it_removed(api, make_instance):
    inst = make_instance("cleanup", "mysql")
    today = timezone.localdate()
    make_rows(inst, ["orders"], today - timedelta(days=369), today)
    run_aggregation()
    aggregates = DatabaseSizeAggregate.objects.count()

    assert api("viewer").post("/api/capacity/partitions/cleanup/").status_code == 403
    assert api("anonymous").post("/api/capacity/partitions/cleanup/").status_code == 401
    response = api("operator").post("/api/capacity/partitions/cleanup/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["database_size_rows_deleted"] == 4 and body["instance_size_rows_deleted"] == 4
    assert body["cutoff_date"] == (today - timedelta(days=365)).isoformat()
    assert "4 database size rows" in body["detail"]
    assert DatabaseSizeStat.objects.filter(collected_date__lt=today - timedelta(days=365)).count() == 0
    assert DatabaseSizeAggregate.objects.count() == aggregates
    assert MaintenanceRun.objects.get(job=MaintenanceJob.RETENTION).success is True
    assert (
        api("viewer")
        .get("/api/capacity/status/")
        .json()["retention"]["last_run"]["summary"]["database_size_rows_deleted"]
        == 4
    )


def test_schema_lists_the_endpoints(api):
    schema = api("viewer").get("/api/schema/", {"format": "json"}).json()
    assert "/api/instances/{id}/database-sizes/aggregations/" in schema["paths"]
    assert "/api/capacity/status/" in schema["paths"]
    assert "post" in schema["paths"]["/api/capacity/partitions/cleanup/"]


def test_a_failed_catch_up_fails_no_collection_and_keeps_the_stored_aggregates(api, instance, monkeypatch):
    from django.db import OperationalError

    from capacity import receivers

    def locked(_instance):
        raise OperationalError("database is locked")

    monkeypatch.setattr(receivers, "refresh_instance", locked)
    session = SyncSession.objects.create(sync_type=SyncType.MANUAL, status=SessionStatus.COMPLETED)
    session.records.create(instance=instance, instance_name=instance.name, status=RecordStatus.COMPLETED)
    collection_finished.send(sender=None, session=session)  # logged, not raised
    response = api("viewer").get(url(instance.pk))
    assert response.status_code == 200 and response.json()["count"] == 8
