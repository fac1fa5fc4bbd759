"""/api/sync-sessions/: sessions with their instance records, looked up by session_id."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sync_sessions.models import SyncInstanceRecord, SyncSession

from .conftest import results

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(make_target, users):
    a, b = make_target("a"), make_target("b")
    done = SyncSession.objects.create(
        sync_type="scheduled", status="completed", total_instances=2, total_size_bytes=3 * 1024 * 1024
    )
    SyncInstanceRecord.objects.create(
        session=done, instance=a, instance_name="a", status="completed", databases_count=2, total_size_bytes=1048576
    )
    SyncInstanceRecord.objects.create(
        session=done, instance=b, instance_name="b", status="failed", error="refused", error_kind="connection"
    )
    manual = SyncSession.objects.create(sync_type="manual", status="running", created_by=users["operator"])
    SyncInstanceRecord.objects.create(session=manual, instance=a, instance_name="a")
    SyncSession.objects.filter(pk=done.pk).update(started_at=timezone.now() - timedelta(days=2))
    return done, manual


def test_list_newest_first_with_records(viewer, sessions):
    done, manual = sessions
    rows = results(viewer.get("/api/sync-sessions/"))
    assert [r["session_id"] for r in rows] == [str(manual.session_id), str(done.session_id)]
    assert rows[0]["created_by"] == "operator" and rows[1]["created_by"] is None
    records = rows[1]["records"]
    assert [(r["instance_name"], r["status"], r["error_kind"]) for r in records] == [
        ("a", "completed", ""),
        ("b", "failed", "connection"),
    ]
    assert records[0]["total_size_mb"] == 1.0
    assert rows[1]["total_size_mb"] == 3.0


def test_detail_by_session_id(viewer, sessions):
    done, _manual = sessions
    body = viewer.get(f"/api/sync-sessions/{done.session_id}/").json()
    assert body["session_id"] == str(done.session_id)
    assert body["sync_type"] == "scheduled" and len(body["records"]) == 2


def test_unknown_or_malformed_session_id_is_404(viewer, sessions):
    for bad in (str(uuid.uuid4()), "not-a-uuid", "12"):
        response = viewer.get(f"/api/sync-sessions/{bad}/")
        assert response.status_code == 404, bad
        assert bad in response.json()["detail"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=running", ["manual"]),
        ("sync_type=scheduled", ["scheduled"]),
        ("created_by=operator", ["manual"]),
        ("instance=b", ["scheduled"]),
        ("instance=a", ["manual", "scheduled"]),
    ],
)
def test_filters(viewer, sessions, query, expected):
    assert [r["sync_type"] for r in results(viewer.get(f"/api/sync-sessions/?{query}"))] == expected


def test_date_and_id_filters(viewer, sessions):
    done, manual = sessions
    today = timezone.localdate().isoformat()
    assert [r["sync_type"] for r in results(viewer.get(f"/api/sync-sessions/?start_date={today}"))] == ["manual"]
    assert [r["sync_type"] for r in results(viewer.get(f"/api/sync-sessions/?end_date={today}"))] == [
        "manual",
        "scheduled",
    ]
    rows = results(viewer.get(f"/api/sync-sessions/?session_id={done.session_id}"))
    assert [r["session_id"] for r in rows] == [str(done.session_id)]
    instance_b = done.records.get(instance_name="b").instance_id
    assert [r["sync_type"] for r in results(viewer.get(f"/api/sync-sessions/?instance_id={instance_b}"))] == [
        "scheduled"
    ]


def test_list_query_count_does_not_grow(viewer, sessions, make_target, django_assert_max_num_queries):
    viewer.get("/api/sync-sessions/")
    with django_assert_max_num_queries(7):
        viewer.get("/api/sync-sessions/")
    instances = [make_target(f"x{i}") for i in range(5)]
    for _n in range(10):
        s = SyncSession.objects.create(sync_type="manual", status="completed")
        SyncInstanceRecord.objects.bulk_create(
            [SyncInstanceRecord(session=s, instance=i, instance_name=i.name) for i in instances]
        )
    with django_assert_max_num_queries(7):
        assert len(results(viewer.get("/api/sync-sessions/"))) == 12


def test_sessions_are_read_only(admin, sessions):
    done, _manual = sessions
    assert admin.post("/api/sync-sessions/", {}, format="json").status_code == 405
    assert admin.delete(f"/api/sync-sessions/{done.session_id}/").status_code == 405
