"""/api/credentials/: the password is write-only, encrypted, and set through Credential.set_password."""

import pytest

from instances.models import Credential

from .conftest import STORED_PASSWORD, results

pytestmark = pytest.mark.django_db


def test_create_encrypts_and_never_returns_the_password(admin):
    response = admin.post(
        "/api/credentials/", {"name": "reader", "username": "cap", "password": "s3cret-xyz"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body
    assert body["has_password"] is True
    assert body["instance_count"] == 0
    stored = Credential.objects.get(pk=body["id"])
    assert stored.password and "s3cret-xyz" not in stored.password
    assert stored.get_password() == "s3cret-xyz"


def test_create_without_a_password(admin):
    response = admin.post("/api/credentials/", {"name": "trust", "username": "postgres"}, format="json")
    assert response.status_code == 201
    assert response.json()["has_password"] is False


def test_patch_keeps_the_password_unless_given(admin, credential):
    response = admin.patch(f"/api/credentials/{credential.pk}/", {"username": "renamed"}, format="json")
    assert response.status_code == 200
    credential.refresh_from_db()
    assert credential.username == "renamed" and credential.get_password() == STORED_PASSWORD

    response = admin.patch(f"/api/credentials/{credential.pk}/", {"password": "n3w pass "}, format="json")
    assert response.status_code == 200 and "password" not in response.json()
    credential.refresh_from_db()
    assert credential.get_password() == "n3w pass "  # spaces are part of a password

    response = admin.patch(f"/api/credentials/{credential.pk}/", {"password": ""}, format="json")
    assert response.json()["has_password"] is False


def test_list_detail_and_filters(viewer, credential, make_target):
    Credential.objects.create(name="other", username="monitor")
    make_target("a")
    make_target("b")
    rows = results(viewer.get("/api/credentials/"))
    assert [(r["name"], r["instance_count"], r["has_password"]) for r in rows] == [
        ("dba", 2, True),
        ("other", 0, False),
    ]
    assert all("password" not in r for r in rows)
    assert viewer.get(f"/api/credentials/{credential.pk}/").json()["username"] == "capacity_reader"
    assert [r["name"] for r in results(viewer.get("/api/credentials/?q=MONI"))] == ["other"]
    assert [r["name"] for r in results(viewer.get("/api/credentials/?has_password=true"))] == ["dba"]
    assert [r["name"] for r in results(viewer.get("/api/credentials/?username=monitor"))] == ["other"]


def test_delete_unused(admin):
    cred = Credential.objects.create(name="spare", username="u")
    assert admin.delete(f"/api/credentials/{cred.pk}/").status_code == 204
    assert not Credential.objects.filter(pk=cred.pk).exists()


def test_duplicate_name_is_400(admin, credential):
    response = admin.post("/api/credentials/", {"name": "dba", "username": "x"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_credential_permissions_are_the_models_own(client_for, users, credential):
    from django.contrib.auth.models import Permission

    operator = client_for("operator")  # may collect, may not manage logins
    assert operator.post("/api/credentials/", {"name": "x", "username": "y"}, format="json").status_code == 403
    assert operator.patch(f"/api/credentials/{credential.pk}/", {"username": "z"}, format="json").status_code == 403
    assert operator.delete(f"/api/credentials/{credential.pk}/").status_code == 403

    users["nobody"].user_permissions.set(
        Permission.objects.filter(codename__in=["view_credential", "add_credential", "change_credential"])
    )
    keeper = client_for("nobody")
    assert keeper.post("/api/credentials/", {"name": "x", "username": "y"}, format="json").status_code == 201
    assert keeper.patch(f"/api/credentials/{credential.pk}/", {"username": "z"}, format="json").status_code == 200
    assert keeper.delete(f"/api/credentials/{credential.pk}/").status_code == 403
