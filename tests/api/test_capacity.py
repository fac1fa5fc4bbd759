"""/api/capacity/stats/ and /api/capacity/collect/."""

from datetime import date

import pytest
from django_q.models import Task

from sync_sessions.choices import SessionStatus, SyncType
from sync_sessions.models import SyncSession

from .conftest import add_collection

MiB = 1024 * 1024


@pytest.mark.django_db
def test_stats_from_each_instances_latest_collection(viewer, make_target):
    a = make_target("a")
    add_collection(a, date(2025, 1, 1), {"x": 5 * MiB})
    add_collection(a, date(2025, 1, 2), {"x": 6 * MiB, "y": 4 * MiB})
    b = make_target("b", is_active=False)
    add_collection(b, date(2025, 1, 2), {"z": 1 * MiB})
    p = make_target("p", db_type="postgresql")
    add_collection(p, date(2025, 1, 1), {"main": 3 * MiB}, deleted={"gone": 7})
    make_target("never", db_type="postgresql")

    body = viewer.get("/api/capacity/stats/").json()
    assert body["total_records"] == 6
    assert body["total_instances"] == 4
    assert body["active_instances"] == 3
    assert body["collected_instances"] == 3
    assert body["total_databases"] == 4
    assert body["total_size_bytes"] == 14 * MiB and body["total_size_mb"] == 14.0
    assert body["last_collection_at"].startswith("2025-01-02")
    assert body["last_session"] is None
    by_type = {row["db_type"]: row for row in body["by_db_type"]}
    assert set(by_type) == {"mysql", "postgresql", "sqlserver", "oracle"}
    assert by_type["mysql"] == {
        "db_type": "mysql",
        "label": "MySQL / MariaDB",
        "instance_count": 2,
        "active_instance_count": 1,
        "database_count": 3,
        "total_size_bytes": 11 * MiB,
        "total_size_mb": 11.0,
    }
    assert by_type["postgresql"]["instance_count"] == 2
    assert by_type["postgresql"]["total_size_bytes"] == 3 * MiB
    assert by_type["oracle"]["instance_count"] == 0 and by_type["oracle"]["total_size_bytes"] == 0


@pytest.mark.django_db
def test_stats_with_nothing_yet(viewer):
    body = viewer.get("/api/capacity/stats/").json()
    assert body["total_records"] == 0 and body["total_size_bytes"] == 0
    assert body["last_collection_at"] is None and body["last_session"] is None


@pytest.mark.django_db
def test_stats_query_count_does_not_grow(viewer, make_target, django_assert_max_num_queries):
    viewer.get("/api/capacity/stats/")
    for i in range(12):
        add_collection(make_target(f"i{i}"), date(2025, 1, 1), {"a": i})
    with django_assert_max_num_queries(8):
        assert viewer.get("/api/capacity/stats/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_collect_starts_a_session_and_answers_202(operator, users, mysql_box, mysql_instance, pg_box, pg_instance):
    mysql_box.create_database("a", tables=1, rows=10)
    pg_box.create_database("b", rows=10)
    response = operator.post("/api/capacity/collect/")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["total_instances"] == 2
    session = SyncSession.objects.get(session_id=body["session_id"])
    assert session.sync_type == SyncType.MANUAL and session.created_by == users["operator"]
    # The test settings run django-q2 in sync mode, so the queued task has already run.
    assert session.status == SessionStatus.COMPLETED
    assert session.successful_instances == 2
    # One task per instance, each its own entry on the broker.
    assert Task.objects.filter(name__startswith=f"collect-{session.session_id}-", success=True).count() == 2

    detail = operator.get(f"/api/sync-sessions/{session.session_id}/").json()
    assert detail["status"] == "completed"
    assert {r["instance_name"] for r in detail["records"]} == {mysql_instance.name, pg_instance.name}


@pytest.mark.django_db(transaction=True)
def test_collect_leaves_inactive_instances_out(operator, make_target):
    make_target("off", is_active=False)
    body = operator.post("/api/capacity/collect/").json()
    assert body["total_instances"] == 0
    assert SyncSession.objects.get(session_id=body["session_id"]).records.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "nobody", "viewer"])
def test_collect_needs_the_sync_permission(client_for, role):
    response = client_for(role).post("/api/capacity/collect/")
    assert response.status_code == (401 if role == "anonymous" else 403)
    assert "detail" in response.json()
    assert not SyncSession.objects.exists()


@pytest.mark.django_db
def test_collect_refuses_get(operator):
    assert operator.get("/api/capacity/collect/").status_code == 405
