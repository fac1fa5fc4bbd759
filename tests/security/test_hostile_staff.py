"""A staff user with partial permissions tries every way to make the platform send a stored password
to a server of their own. A fake server that asks for the password in clear listens each time: it
must never receive it, and every refusal is a 4xx (admin: a form error) that says why.

The hostile user may view everything, add and change instances, add credentials and run
collections and connection tests, but may not change credentials (instances.change_credential).
"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from capacity.services.collect import collect
from instances.models import Credential, CredentialTarget, Instance
from sync_sessions.choices import RecordStatus, SyncType

from .conftest import PRODUCTION_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.strict_targets]

APPROVER = "instances.change_credential"


def assert_refusal(response, status=403):
    assert response.status_code == status, response.content
    body = response.json()
    message = body.get("detail") or body.get("error")
    assert APPROVER in message, body
    assert PRODUCTION_PASSWORD not in response.content.decode()
    return message


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def instance_form(instance, **changes):
    """The admin change form's POST data for this instance, with some fields changed."""
    data = {
        "name": instance.name,
        "db_type": instance.db_type,
        "host": instance.host,
        "port": instance.port or "",
        "is_active": "on" if instance.is_active else "",
        "description": instance.description,
        "options": "{}",
        "capacity_limit_bytes": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


# --- the control: the fake server does catch a password when one is sent ------------------------


def test_the_fake_server_catches_a_password_sent_to_an_approved_target(production_instance, listener, manager, api_as):
    response = api_as(manager).patch(
        f"/api/instances/{production_instance.pk}/", {"port": listener.port}, format="json"
    )
    assert response.status_code == 200, response.content
    answer = api_as(manager).post(f"/api/instances/{production_instance.pk}/test-connection/")
    assert answer.status_code == 502
    assert listener.passwords == [PRODUCTION_PASSWORD]


# --- the API ---------------------------------------------------------------------------------------


def test_patch_port_then_test_connection(production_instance, listener, hostile, api_as):
    api = api_as(hostile)
    old_port = production_instance.port
    message = assert_refusal(
        api.patch(f"/api/instances/{production_instance.pk}/", {"port": listener.port}, format="json")
    )
    assert str(listener.port) in message
    production_instance.refresh_from_db()
    assert production_instance.port == old_port
    answer = api.post(f"/api/instances/{production_instance.pk}/test-connection/")
    assert answer.status_code == 502 and answer.json()["error_kind"] == "connection"  # the approved, closed port
    listener.assert_untouched()


@pytest.mark.parametrize(
    "change",
    [{"host": "localhost"}, {"host": "127.0.0.2"}, {"db_type": "mysql"}, {"port": None}],
    ids=["host-name", "host-ip", "engine", "default-port"],
)
def test_patch_host_engine_or_port(production_instance, hostile, api_as, change):
    assert_refusal(api_as(hostile).patch(f"/api/instances/{production_instance.pk}/", change, format="json"))
    assert Instance.objects.filter(pk=production_instance.pk, host="127.0.0.1", db_type="postgresql").exists()


def test_patch_other_fields_still_works(production_instance, hostile, api_as):
    response = api_as(hostile).patch(
        f"/api/instances/{production_instance.pk}/",
        {"description": "orders cluster", "options": {"database": "orders"}, "host": "127.0.0.1"},
        format="json",
    )
    assert response.status_code == 200, response.content


def test_create_with_an_existing_credential_and_a_listener_host(
    production_credential, production_instance, listener, hostile, api_as
):
    api = api_as(hostile)
    body = {
        "name": "innocent",
        "db_type": "postgresql",
        "host": listener.host,
        "port": listener.port,
        "credential": production_credential.pk,
    }
    assert_refusal(api.post("/api/instances/", body, format="json"))
    assert not Instance.objects.filter(name="innocent").exists()
    # Even on the credential's own approved target: only a credential manager attaches a stored login.
    same_target = {**body, "host": production_instance.host, "port": production_instance.port}
    assert_refusal(api.post("/api/instances/", same_target, format="json"))
    listener.assert_untouched()


def test_create_without_credential_then_attach_one(production_credential, listener, hostile, api_as):
    api = api_as(hostile)
    created = api.post(
        "/api/instances/",
        {"name": "mine", "db_type": "postgresql", "host": listener.host, "port": listener.port},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert_refusal(
        api.patch(f"/api/instances/{created.json()['id']}/", {"credential": production_credential.pk}, format="json")
    )
    assert Instance.objects.get(name="mine").credential_id is None
    listener.assert_untouched()


def test_a_credential_of_ones_own_is_no_way_round(production_instance, listener, hostile, api_as):
    """add_credential lets them store a login, not move where an existing one goes or attach one."""
    api = api_as(hostile)
    own = api.post("/api/credentials/", {"name": "mine", "username": "x", "password": "y"}, format="json")
    assert own.status_code == 201
    assert_refusal(
        api.patch(f"/api/instances/{production_instance.pk}/", {"credential": own.json()["id"]}, format="json")
    )
    listener.assert_untouched()


def test_credential_api_never_returns_the_password(production_credential, production_instance, hostile, api_as):
    api = api_as(hostile)
    stored = Credential.objects.get(pk=production_credential.pk).password
    for url in (
        "/api/credentials/",
        f"/api/credentials/{production_credential.pk}/",
        f"/api/instances/{production_instance.pk}/",
    ):
        for accept in ("application/json", "text/html"):
            response = api.get(url, HTTP_ACCEPT=accept)
            assert response.status_code == 200, url
            text = response.content.decode()
            assert PRODUCTION_PASSWORD not in text and stored not in text, url
    page = admin_client(hostile).get(reverse("admin:instances_credential_change", args=[production_credential.pk]))
    assert page.status_code == 200
    assert PRODUCTION_PASSWORD not in page.content.decode() and stored not in page.content.decode()


# --- the admin -------------------------------------------------------------------------------------


def test_admin_add_form_offers_no_credential(production_credential, listener, hostile):
    client = admin_client(hostile)
    page = client.get(reverse("admin:instances_instance_add"))
    assert page.status_code == 200
    assert 'name="credential"' not in page.content.decode()
    assert production_credential.name not in page.content.decode()
    response = client.post(
        reverse("admin:instances_instance_add"),
        instance_form(
            Instance(name="sneaky", db_type="postgresql", host=listener.host, port=listener.port),
            credential=str(production_credential.pk),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Instance.objects.get(name="sneaky").credential_id is None  # the posted credential is ignored
    listener.assert_untouched()


def test_admin_change_form_cannot_switch_credential(production_instance, hostile, listener):
    other = Credential(name="other-prod", username="sa")
    other.set_password("Other-Secret-22")
    other.save()
    client = admin_client(hostile)
    url = reverse("admin:instances_instance_change", args=[production_instance.pk])
    assert 'name="credential"' not in client.get(url).content.decode()
    response = client.post(url, instance_form(production_instance, credential=str(other.pk)))
    assert response.status_code == 302
    production_instance.refresh_from_db()
    assert production_instance.credential.name == "prod-dba"
    listener.assert_untouched()


def test_admin_change_form_refuses_moving_the_instance(production_instance, hostile, listener):
    client = admin_client(hostile)
    url = reverse("admin:instances_instance_change", args=[production_instance.pk])
    for change in ({"port": str(listener.port)}, {"host": "localhost"}, {"db_type": "mysql"}):
        response = client.post(url, instance_form(production_instance, **change))
        assert response.status_code == 200, change  # the form again, with the error
        errors = response.context["adminform"].form.non_field_errors()
        assert any(APPROVER in error for error in errors), errors
    production_instance.refresh_from_db()
    assert production_instance.host == "127.0.0.1" and production_instance.db_type == "postgresql"
    listener.assert_untouched()


# --- past the write paths: the shell, update(), the nightly run -------------------------------------


def test_bulk_update_then_every_way_to_connect(production_instance, listener, hostile, api_as):
    Instance.objects.filter(pk=production_instance.pk).update(host=listener.host, port=listener.port)
    api = api_as(hostile)

    assert_refusal(api.post(f"/api/instances/{production_instance.pk}/test-connection/"))
    assert_refusal(api.post(f"/api/instances/{production_instance.pk}/sync-capacity/"))

    admin_answer = admin_client(hostile).post(
        reverse("admin:instances_instance_test_connection", args=[production_instance.pk])
    )
    assert admin_answer.json()["success"] is False and admin_answer.json()["error_kind"] == "permission"
    assert APPROVER in admin_answer.json()["error"]

    session = collect(sync_type=SyncType.SCHEDULED)  # the nightly run over every active instance
    record = session.records.get(instance=production_instance)
    assert record.status == RecordStatus.FAILED
    assert record.error_kind == "permission" and APPROVER in record.error

    with pytest.raises(CommandError) as failure:
        call_command("test_connection", production_instance.name)
    assert "[permission]" in str(failure.value) and APPROVER in str(failure.value)

    listener.assert_untouched()


def test_bulk_update_of_the_credential_then_collection(production_instance, listener, hostile):
    """An instance already pointing at the listener (approved for its own login) is given the production one."""
    decoy = Credential(name="decoy", username="decoy")
    decoy.set_password("decoy-pw")
    decoy.save()
    trap = Instance.objects.create(
        name="trap", db_type="postgresql", host=listener.host, port=listener.port, credential=decoy
    )
    CredentialTarget.objects.create(credential=decoy, db_type="postgresql", host=listener.host, port=listener.port)
    Instance.objects.filter(pk=trap.pk).update(credential=production_instance.credential)
    session = collect([trap])
    record = session.records.get()
    assert record.error_kind == "permission"
    listener.assert_untouched()


def test_shell_save_approves_nothing(production_instance, listener):
    production_instance.port = listener.port
    production_instance.save()
    session = collect([production_instance])
    assert session.records.get().error_kind == "permission"
    listener.assert_untouched()
    assert not CredentialTarget.objects.filter(port=listener.port).exists()


@pytest.mark.parametrize("db_type", ["mysql", "postgresql"])
def test_bulk_update_of_an_instance_of_each_live_engine(db_type, production_credential, listener):
    """The check sits before any driver is asked to connect, whatever the engine speaks."""
    instance = Instance.objects.create(
        name=f"live-{db_type}", db_type=db_type, host="127.0.0.1", port=1, credential=production_credential
    )
    CredentialTarget.objects.create(credential=production_credential, db_type=db_type, host="127.0.0.1", port=1)
    Instance.objects.filter(pk=instance.pk).update(port=listener.port)
    record = collect([instance]).records.get()
    assert record.error_kind == "permission", record.error
    listener.assert_untouched()
