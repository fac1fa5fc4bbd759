"""sync-capacity and test-connection against the real local MariaDB and PostgreSQL servers."""

import uuid

import pytest

from capacity.models import DatabaseSizeStat, InstanceSizeStat, to_mib
from sync_sessions.choices import SessionStatus, SyncType
from sync_sessions.models import SyncSession

from .conftest import results

pytestmark = pytest.mark.django_db(transaction=True)


def test_sync_capacity_mysql(operator, users, mysql_box, mysql_instance):
    mysql_box.create_database("orders", tables=2, rows=500)
    mysql_box.create_database("empty", tables=0)
    response = operator.post(f"/api/instances/{mysql_instance.pk}/sync-capacity/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["success"] is True
    stats = DatabaseSizeStat.objects.filter(instance=mysql_instance)
    # The sandbox's two databases, plus information_schema, which the engine reports as a system one.
    assert body["databases_count"] == body["saved_count"] == stats.count() == 3
    assert body["total_size_bytes"] == sum(s.size_bytes for s in stats) > 0
    assert body["total_size_mb"] == to_mib(body["total_size_bytes"])
    session = SyncSession.objects.get(session_id=body["session_id"])
    assert session.status == SessionStatus.COMPLETED
    assert session.sync_type == SyncType.MANUAL
    assert session.created_by == users["operator"]

    # What was collected is what the reading endpoints show.
    total = operator.get(f"/api/instances/{mysql_instance.pk}/database-sizes/total/").json()
    assert total["total_size_bytes"] == body["total_size_bytes"] and total["database_count"] == 3
    names = {r["database_name"] for r in results(operator.get(f"/api/instances/{mysql_instance.pk}/databases/"))}
    assert names == {mysql_box.name("orders"), mysql_box.name("empty"), "information_schema"}


def test_sync_capacity_postgres(operator, pg_box, pg_instance):
    db = pg_box.create_database("ledger", rows=2000)
    response = operator.post(f"/api/instances/{pg_instance.pk}/sync-capacity/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["success"] is True
    assert body["databases_count"] >= 1
    assert DatabaseSizeStat.objects.get(instance=pg_instance, database_name=db).size_bytes == pg_box.server_sizes()[db]
    assert InstanceSizeStat.objects.get(instance=pg_instance).total_size_bytes == body["total_size_bytes"]


def test_sync_capacity_of_an_inactive_instance_is_409(operator, mysql_instance):
    mysql_instance.is_active = False
    mysql_instance.save()
    response = operator.post(f"/api/instances/{mysql_instance.pk}/sync-capacity/")
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and mysql_instance.name in body["error"]
    assert not SyncSession.objects.exists()


def test_sync_capacity_while_another_run_holds_the_instance_is_409(operator, make_target):
    from django.utils import timezone

    from instances.models import Instance

    inst = make_target("busy")
    Instance.objects.filter(pk=inst.pk).update(collection_lock=uuid.uuid4(), collection_locked_at=timezone.now())
    response = operator.post(f"/api/instances/{inst.pk}/sync-capacity/")
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and "another run" in body["error"]
    assert SyncSession.objects.filter(session_id=body["session_id"]).exists()


def test_sync_capacity_without_a_credential_is_400(operator, make_target):
    inst = make_target("lonely", credential=None)
    response = operator.post(f"/api/instances/{inst.pk}/sync-capacity/")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error_kind"] == "auth" and "credential" in body["error"]


def test_sync_capacity_of_an_unreachable_server_is_502_with_the_reason(operator, make_instance):
    inst = make_instance("nowhere", "mysql", host="127.0.0.1", port=1)
    response = operator.post(f"/api/instances/{inst.pk}/sync-capacity/")
    assert response.status_code == 502
    body = response.json()
    assert body["success"] is False
    assert body["error"] and body["error_kind"] in ("connection", "timeout")
    session = SyncSession.objects.get(session_id=body["session_id"])
    assert session.status == SessionStatus.FAILED
    inst.refresh_from_db()
    assert inst.last_sync_status == "failed"


# The local PostgreSQL trusts 127.0.0.1, so a refused login is tried on MariaDB.
def test_sync_capacity_with_a_wrong_password_is_502_auth(operator, mysql_box, make_instance):
    user, _password = mysql_box.create_login()
    inst = make_instance("badpw", "mysql", port=mysql_box.port, username=user, password="wrong")
    response = operator.post(f"/api/instances/{inst.pk}/sync-capacity/")
    assert response.status_code == 502
    assert response.json()["error_kind"] == "auth"


@pytest.mark.parametrize("role, expected", [("anonymous", 401), ("nobody", 403), ("viewer", 403)])
def test_sync_capacity_needs_the_sync_permission(client_for, mysql_instance, role, expected):
    response = client_for(role).post(f"/api/instances/{mysql_instance.pk}/sync-capacity/")
    assert response.status_code == expected
    assert "detail" in response.json()
    assert not SyncSession.objects.exists()


def test_test_connection_mysql(operator, mysql_instance):
    response = operator.post(f"/api/instances/{mysql_instance.pk}/test-connection/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["success"] is True
    assert "maria" in body["server_version"].lower() or body["server_version"][0].isdigit()
    assert body["error"] == "" and body["error_kind"] == ""
    assert isinstance(body["elapsed_ms"], int)
    mysql_instance.refresh_from_db()
    assert mysql_instance.last_connected is not None


def test_test_connection_postgres(operator, pg_instance):
    body = operator.post(f"/api/instances/{pg_instance.pk}/test-connection/").json()
    assert body["success"] is True and body["server_version"]


def test_test_connection_failure_is_502(operator, mysql_box, make_instance):
    user, _password = mysql_box.create_login()
    inst = make_instance("badpw", "mysql", port=mysql_box.port, username=user, password="wrong")
    response = operator.post(f"/api/instances/{inst.pk}/test-connection/")
    assert response.status_code == 502
    body = response.json()
    assert body["success"] is False and body["error"] and body["error_kind"] == "auth"
    assert body["server_version"] == ""


def test_test_connection_unreachable_is_502(operator, make_instance):
    inst = make_instance("nowhere", "postgresql", host="127.0.0.1", port=1)
    body = operator.post(f"/api/instances/{inst.pk}/test-connection/").json()
    assert body["success"] is False and body["error_kind"] in ("connection", "timeout")


def test_test_connection_without_a_credential_is_400(operator, make_target):
    inst = make_target("lonely", credential=None)
    response = operator.post(f"/api/instances/{inst.pk}/test-connection/")
    assert response.status_code == 400
    assert response.json()["success"] is False


@pytest.mark.parametrize("action", ["test-connection", "sync-capacity"])
def test_actions_on_an_unknown_instance_are_404(operator, action):
    for bad in ("424242", "nope"):
        response = operator.post(f"/api/instances/{bad}/{action}/")
        assert response.status_code == 404
        assert bad in response.json()["detail"]


def test_viewer_cannot_test_connections(viewer, mysql_instance):
    assert viewer.post(f"/api/instances/{mysql_instance.pk}/test-connection/").status_code == 403


def test_session_id_is_a_uuid(operator, mysql_box, mysql_instance):
    mysql_box.create_database("one", tables=1, rows=1)
    body = operator.post(f"/api/instances/{mysql_instance.pk}/sync-capacity/").json()
    assert uuid.UUID(body["session_id"])
