"""Audit: what the API creates, changes and deletes lands in the admin's history (LogEntry) beside the
admin's own changes, with who, when and which fields, never a secret; connection tests and
collections say who caused them."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from alerting.models import AlertRule
from instances.models import Credential, Instance
from sync_sessions.models import SyncSession

from .conftest import PRODUCTION_PASSWORD, staff_user

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "T000-B000-s3cr3t-token"


@pytest.fixture
def dba(django_user_model):
    return staff_user(
        django_user_model,
        "dba",
        [
            f"{app}.{action}_{model}"
            for app, model in (("instances", "instance"), ("instances", "credential"), ("alerting", "alertrule"))
            for action in ("add", "change", "delete", "view")
        ]
        + ["instances.sync_capacity"],
    )


def history(obj_or_model, pk=None):
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    pk = obj_or_model.pk if pk is None else pk
    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=str(pk)).order_by(
            "action_time", "pk"
        )
    )


def assert_no_secret(entries):
    for entry in entries:
        text = f"{entry.object_repr} {entry.change_message} {entry.get_change_message()}"
        assert PRODUCTION_PASSWORD not in text and WEBHOOK_SECRET not in text and "token=" not in text, text


def test_credential_create_change_delete_through_the_api(dba, api_as):
    api = api_as(dba)
    created = api.post(
        "/api/credentials/", {"name": "prod", "username": "reader", "password": PRODUCTION_PASSWORD}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = api.patch(f"/api/credentials/{pk}/", {"password": PRODUCTION_PASSWORD + "-2", "username": "r2"})
    assert changed.status_code == 200, changed.content
    assert api.patch(f"/api/credentials/{pk}/", {"username": "r2"}).status_code == 200  # nothing changed
    assert api.delete(f"/api/credentials/{pk}/").status_code == 204

    added, change, deleted = history(Credential, pk)
    assert [e.action_flag for e in (added, change, deleted)] == [ADDITION, CHANGE, DELETION]
    assert all(e.user == dba for e in (added, change, deleted))
    assert change.get_change_message() == "Changed Username and Password (encrypted)."
    assert deleted.object_repr == "prod (r2)"
    assert_no_secret([added, change, deleted])


def test_instance_changes_name_their_fields_and_show_in_the_admin_history(dba, api_as, production_instance):
    api = api_as(dba)
    response = api.patch(
        f"/api/instances/{production_instance.pk}/", {"description": "orders", "is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    (entry,) = history(production_instance)
    assert entry.user == dba and entry.action_flag == CHANGE
    assert entry.get_change_message() == "Changed Active and Description."

    client = Client()
    client.force_login(dba)
    page = client.get(f"/admin/instances/instance/{production_instance.pk}/history/")
    assert page.status_code == 200 and "Changed Active and Description." in page.content.decode()


def test_instance_create_and_delete(dba, api_as):
    api = api_as(dba)
    created = api.post("/api/instances/", {"name": "new", "db_type": "mysql", "host": "db.example.com"})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.delete(f"/api/instances/{pk}/").status_code == 204
    assert [(e.action_flag, e.object_repr, e.user) for e in history(Instance, pk)] == [
        (ADDITION, str(Instance(name="new", db_type="mysql", host="db.example.com")), dba),
        (DELETION, str(Instance(name="new", db_type="mysql", host="db.example.com")), dba),
    ]


def test_alert_rule_changes_never_log_the_webhook(dba, api_as, monkeypatch):
    import socket

    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, port, *a, **k: [(socket.AF_INET, 1, 6, "", ("93.184.215.14", port))]
    )
    api = api_as(dba)
    url = f"https://ops:pw@hooks.example.com/services/{WEBHOOK_SECRET}?token=abc"
    created = api.post(
        "/api/alert-rules/",
        {"name": "big", "kind": "total_size", "threshold_bytes": 1, "webhook_url": url},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.patch(f"/api/alert-rules/{pk}/", {"webhook_url": url + "x"}, format="json").status_code == 200
    assert api.delete(f"/api/alert-rules/{pk}/").status_code == 204
    entries = history(AlertRule, pk)
    assert [e.action_flag for e in entries] == [ADDITION, CHANGE, DELETION]
    assert entries[1].get_change_message() == "Changed Webhook URL."
    assert_no_secret(entries)


def test_a_refused_write_logs_nothing(django_user_model, api_as, production_instance, listener):
    hostile = staff_user(django_user_model, "mallory", ["instances.change_instance"])
    response = api_as(hostile).patch(
        f"/api/instances/{production_instance.pk}/", {"port": listener.port}, format="json"
    )
    assert response.status_code == 403
    assert history(production_instance) == []


def test_connection_tests_say_who_tested(dba, api_as, production_instance, listener):
    api = api_as(dba)
    # Approved target, nothing listening: a failure, recorded with its kind and without the driver's message.
    assert api.post(f"/api/instances/{production_instance.pk}/test-connection/").status_code == 502
    (entry,) = history(production_instance)
    assert entry.user == dba and entry.change_message == "Connection test: failed [connection]."

    # A target nobody approved: refused before connecting, and the attempt is recorded too.
    Instance.objects.filter(pk=production_instance.pk).update(port=listener.port)
    assert api.post(f"/api/instances/{production_instance.pk}/test-connection/").status_code == 403
    assert history(production_instance)[-1].change_message == "Connection test: failed [permission]."
    listener.assert_untouched()

    client = Client()
    client.force_login(dba)
    button = client.post(f"/admin/instances/instance/{production_instance.pk}/test-connection/")
    assert button.status_code in (200, 502, 403), button.content
    assert [e.user for e in history(production_instance)] == [dba, dba, dba]


@pytest.mark.django_db(transaction=True)
def test_a_collection_says_who_started_it(dba, api_as, production_instance):
    response = api_as(dba).post(f"/api/instances/{production_instance.pk}/sync-capacity/")
    assert response.status_code == 502, response.content
    assert SyncSession.objects.get().created_by == dba
