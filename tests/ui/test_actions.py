"""The per-row JSON admin views: "Sync capacity" and "Test connection"."""

import pytest
from django.test import Client
from django.urls import reverse

from capacity.models import DatabaseSizeStat, InstanceSizeStat
from common.formatting import human_bytes
from sync_sessions.models import SyncSession


def sync_url(instance):
    return reverse("admin:instances_instance_sync_capacity", args=[instance.pk])


def test_url(instance):
    return reverse("admin:instances_instance_test_connection", args=[instance.pk])


test_url.__test__ = False


@pytest.fixture
def closed_port_instance(make_instance):
    """An instance nobody listens for: the connection is refused at once."""
    return make_instance("nobody-home", "mysql", port=1)


@pytest.mark.django_db
@pytest.mark.parametrize("url_for", [sync_url, test_url])
def test_viewer_without_sync_capacity_gets_403(viewer_client, closed_port_instance, url_for):
    response = viewer_client.post(url_for(closed_port_instance))
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert "permission" in response.json()["error"]
    assert not SyncSession.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url_for", [sync_url, test_url])
def test_get_is_refused(operator_client, closed_port_instance, url_for):
    response = operator_client.get(url_for(closed_port_instance))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.django_db
@pytest.mark.parametrize("url_for", [sync_url, test_url])
def test_anonymous_is_sent_to_login(client, closed_port_instance, url_for):
    response = client.post(url_for(closed_port_instance))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.django_db
def test_csrf_token_is_required(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    from instances.models import Instance

    instance = Instance.objects.create(name="csrf-check", db_type="mysql", host="127.0.0.1", port=1)
    assert client.post(sync_url(instance)).status_code == 403
    page = client.get(reverse("admin:instances_instance_changelist"))
    token = page.cookies["csrftoken"].value
    response = client.post(sync_url(instance), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400  # past CSRF: refused for having no credential
    assert "no credential" in response.json()["error"]


@pytest.mark.django_db
def test_unknown_instance(operator_client):
    response = operator_client.post(reverse("admin:instances_instance_sync_capacity", args=[987654]))
    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.django_db
def test_inactive_instance_is_refused(operator_client, make_instance):
    instance = make_instance("sleeping", "mysql", port=1, is_active=False)
    response = operator_client.post(sync_url(instance))
    assert response.status_code == 400
    assert "inactive" in response.json()["error"]
    assert not SyncSession.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_unreachable_instance_fails_with_reason(operator_client, closed_port_instance):
    response = operator_client.post(sync_url(closed_port_instance))
    assert response.status_code == 502
    body = response.json()
    assert body["success"] is False
    assert body["error_kind"] == "connection"
    assert "nobody-home" in body["error"]
    assert body["fields"]["status"] == "Failed"
    assert "capacity-status-failed" in body["fields"]["status_class"]
    session = SyncSession.objects.get(session_id=body["session_id"])
    assert session.status == "failed"
    closed_port_instance.refresh_from_db()
    assert closed_port_instance.last_sync_status == "failed"


@pytest.mark.django_db
def test_test_connection_failure_is_an_answer(operator_client, closed_port_instance):
    response = operator_client.post(test_url(closed_port_instance))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert body["error_kind"] == "connection"
    assert "connection failed" in body["error"]


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_sync_capacity_collects_from_real_mariadb(operator_client, operator, mysql_box, mysql_instance):
    shop = mysql_box.create_database("shop", tables=2, rows=500)
    blog = mysql_box.create_database("blog", tables=1, rows=50)
    response = operator_client.post(sync_url(mysql_instance))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    stats = DatabaseSizeStat.objects.filter(instance=mysql_instance)
    assert {shop, blog} <= {s.database_name for s in stats}  # and the system schemas the login sees
    assert body["databases_count"] == stats.count()
    total = sum(s.size_bytes for s in stats)
    assert body["total_size_bytes"] == total > 0
    assert body["total_size_human"] == human_bytes(total)
    assert body["fields"]["total"] == human_bytes(total)
    assert body["fields"]["databases"] == str(stats.count())
    assert body["fields"]["status"] == "OK"
    assert human_bytes(total) in body["message"]
    assert InstanceSizeStat.objects.get(instance=mysql_instance).total_size_bytes == total
    session = SyncSession.objects.get(session_id=body["session_id"])
    assert session.created_by == operator
    assert session.sync_type == "manual"


@pytest.mark.mysql
@pytest.mark.django_db
def test_test_connection_against_real_mariadb(operator_client, mysql_instance):
    response = operator_client.post(test_url(mysql_instance))
    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True, body
    assert "MariaDB" in body["server_version"] or body["server_version"][0].isdigit()
    assert "connected in" in body["message"]
    assert body["fields"]["last_connected"] != "—"


@pytest.mark.django_db
def test_test_connection_admin_action_reports_each_instance(operator_client, closed_port_instance):
    from instances.models import Instance

    lonely = Instance.objects.create(name="lonely", db_type="mysql", host="127.0.0.1", port=1)
    response = operator_client.post(
        reverse("admin:instances_instance_changelist"),
        {"action": "action_test_connection", "_selected_action": [closed_port_instance.pk, lonely.pk]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any(t.startswith("nobody-home: connection failed [") for t in texts), texts
    assert any(t.startswith("lonely: connection failed [") and "no credential" in t for t in texts), texts
