"""No answer ever carries a stored password, in clear or encrypted."""

from datetime import date

import pytest
from django.urls import reverse

from instances.models import Credential
from sync_sessions.models import SyncInstanceRecord, SyncSession

from .conftest import STORED_PASSWORD, add_collection

pytestmark = pytest.mark.django_db


def _assert_clean(response, secrets):
    text = response.content.decode()
    for secret in secrets:
        assert secret not in text, response.request["PATH_INFO"]


def test_no_get_endpoint_returns_a_password(admin, make_target, credential):
    inst = make_target("orders")
    add_collection(inst, date(2025, 1, 1), {"a": 1})
    session = SyncSession.objects.create(sync_type="manual", status="completed")
    SyncInstanceRecord.objects.create(session=session, instance=inst, instance_name=inst.name)
    credential.refresh_from_db()
    secrets = [STORED_PASSWORD, credential.password]
    urls = [
        "/api/credentials/",
        f"/api/credentials/{credential.pk}/",
        "/api/instances/",
        f"/api/instances/{inst.pk}/",
        "/api/instances/total-sizes/",
        f"/api/instances/{inst.pk}/databases/",
        f"/api/instances/{inst.pk}/database-sizes/",
        f"/api/instances/{inst.pk}/database-sizes/total/",
        f"/api/instances/{inst.pk}/database-sizes/summary/",
        "/api/capacity/stats/",
        "/api/sync-sessions/",
        f"/api/sync-sessions/{session.session_id}/",
        reverse("schema"),
        reverse("schema") + "?format=json",
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        _assert_clean(response, secrets)
    # The browsable API renders forms too.
    _assert_clean(admin.get(f"/api/credentials/{credential.pk}/", HTTP_ACCEPT="text/html"), secrets)


def test_create_and_patch_answers_carry_no_password(admin):
    response = admin.post(
        "/api/credentials/", {"name": "c", "username": "u", "password": "first-Secret-1"}, format="json"
    )
    assert response.status_code == 201
    stored = Credential.objects.get(name="c").password
    _assert_clean(response, ["first-Secret-1", stored])
    pk = response.json()["id"]
    response = admin.patch(f"/api/credentials/{pk}/", {"password": "second-Secret-2"}, format="json")
    assert response.status_code == 200
    _assert_clean(response, ["second-Secret-2", Credential.objects.get(pk=pk).password, stored])
    response = admin.put(f"/api/credentials/{pk}/", {"name": "c", "username": "u2"}, format="json")
    assert response.status_code == 200
    _assert_clean(response, ["second-Secret-2", Credential.objects.get(pk=pk).password])
    assert Credential.objects.get(pk=pk).get_password() == "second-Secret-2"


def test_an_instance_answer_carries_no_password(admin, credential):
    response = admin.post(
        "/api/instances/",
        {"name": "i", "db_type": "mysql", "host": "h", "credential": credential.pk},
        format="json",
    )
    credential.refresh_from_db()
    _assert_clean(response, [STORED_PASSWORD, credential.password])
    response = admin.patch(f"/api/instances/{response.json()['id']}/", {"port": 3307}, format="json")
    _assert_clean(response, [STORED_PASSWORD, credential.password])


def test_a_rejected_credential_does_not_echo_the_password(admin):
    response = admin.post("/api/credentials/", {"username": "u", "password": "echo-Me-not-3"}, format="json")
    assert response.status_code == 400
    _assert_clean(response, ["echo-Me-not-3"])
