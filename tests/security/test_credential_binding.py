"""The binding of a stored credential to its approved (engine, host, port) targets."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from instances import binding
from instances.models import Credential, CredentialTarget, Instance
from instances.services import test_connection

pytestmark = [pytest.mark.django_db, pytest.mark.strict_targets]


def _credential(name="dba", password="s3cret"):
    credential = Credential(name=name, username="reader")
    credential.set_password(password)
    credential.save()
    return credential


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_unapproved_instance_fails_with_permission():
    instance = Instance.objects.create(
        name="shell-made", db_type="mysql", host="db1.example.com", credential=_credential()
    )
    result = test_connection(instance)
    assert not result.success
    assert result.error_kind == "permission"
    assert "instances.change_credential" in result.error
    assert "mysql://db1.example.com:3306" in result.error
    assert "approve_target shell-made" in result.error


@pytest.mark.parametrize(
    ("approved", "connected", "same"),
    [
        (("DB1.Example.COM", 5432), ("db1.example.com", None), True),
        (("[::1]", 5432), ("0:0::1", 5432), True),
        (("10.0.0.5", 5432), ("10.0.0.5", 5433), False),
        (("db1.example.com", 5432), ("db1.example.com.", 5432), False),
        (("127.0.0.1", 5432), ("127.1", 5432), False),
    ],
)
def test_targets_compare_by_where_they_lead(approved, connected, same):
    credential = _credential()
    CredentialTarget.objects.create(credential=credential, db_type="postgresql", host=approved[0], port=approved[1])
    instance = Instance(name="i", db_type="postgresql", host=connected[0], port=connected[1], credential=credential)
    assert (binding.approval_denial(instance) == "") is same


def test_an_approval_is_per_engine():
    credential = _credential()
    CredentialTarget.objects.create(credential=credential, db_type="mysql", host="db1", port=1433)
    instance = Instance(name="i", db_type="sqlserver", host="db1", credential=credential)
    assert binding.approval_denial(instance)


@pytest.mark.postgres
def test_one_approval_covers_every_database_of_the_server(pg_box, make_instance):
    """The database name is not part of a target: per-database connections keep working."""
    other = pg_box.create_database("other", rows=1)
    user, password = pg_box.create_login()
    instance = make_instance(f"pg-{pg_box.prefix}", "postgresql", port=pg_box.port, username=user, password=password)
    Instance.objects.filter(pk=instance.pk).update(options={"database": other})
    instance.refresh_from_db()
    result = test_connection(instance)
    assert result.success, result.error


def test_a_manager_write_approves_the_new_target(django_user_model):
    from rest_framework.test import APIClient

    from .conftest import staff_user

    lead = staff_user(
        django_user_model,
        "lead",
        ["instances.add_instance", "instances.change_instance", "instances.change_credential"],
    )
    credential = _credential()
    api = APIClient()
    api.force_login(lead)
    created = api.post(
        "/api/instances/",
        {"name": "n", "db_type": "postgresql", "host": "DB9.example.com", "credential": credential.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    approval = CredentialTarget.objects.get(credential=credential)
    assert (approval.db_type, approval.host, approval.port) == ("postgresql", "db9.example.com", 5432)
    assert approval.approved_by == lead and approval.note == "api"
    moved = api.patch(f"/api/instances/{created.json()['id']}/", {"port": 6432}, format="json")
    assert moved.status_code == 200
    assert set(CredentialTarget.objects.values_list("port", flat=True)) == {5432, 6432}


def test_removing_a_credential_needs_no_permission(django_user_model):
    from rest_framework.test import APIClient

    from .conftest import staff_user

    editor = staff_user(django_user_model, "editor", ["instances.change_instance"])
    instance = Instance.objects.create(name="i", db_type="mysql", host="db1", credential=_credential())
    api = APIClient()
    api.force_login(editor)
    response = api.patch(f"/api/instances/{instance.pk}/", {"credential": None, "host": "db2"}, format="json")
    assert response.status_code == 200, response.content


def test_admin_save_by_a_manager_approves(django_user_model):
    from .conftest import staff_user

    lead = staff_user(
        django_user_model,
        "lead",
        ["instances.add_instance", "instances.change_instance", "instances.change_credential"],
    )
    credential = _credential()
    response = _client(lead).post(
        reverse("admin:instances_instance_add"),
        {
            "name": "a",
            "db_type": "mysql",
            "host": "db1",
            "port": "3307",
            "credential": credential.pk,
            "is_active": "on",
            "options": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    approval = CredentialTarget.objects.get()
    assert (approval.host, approval.port, approval.approved_by, approval.note) == ("db1", 3307, lead, "admin")


def test_credential_page_shows_approvals_read_only_to_viewers(django_user_model):
    from .conftest import staff_user

    credential = _credential()
    CredentialTarget.objects.create(credential=credential, db_type="oracle", host="ora1.example.com", port=1521)
    viewer = staff_user(django_user_model, "viewer", ["instances.change_instance"])
    page = _client(viewer).get(reverse("admin:instances_credential_change", args=[credential.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "ora1.example.com" in text
    assert 'name="targets-0-host"' not in text and 'name="targets-0-DELETE"' not in text
    assert 'name="targets-__prefix__-host"' not in text  # no "add another"


def test_a_manager_adds_and_removes_approvals_on_the_credential_page(django_user_model):
    from .conftest import staff_user

    credential = _credential()
    lead = staff_user(django_user_model, "lead", ["instances.change_credential"])
    url = reverse("admin:instances_credential_change", args=[credential.pk])
    form = {
        "name": credential.name,
        "username": credential.username,
        "description": "",
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
        "targets-0-db_type": "postgresql",
        "targets-0-host": "[::1]",
        "targets-0-port": "5433",
        "targets-0-note": "replica",
    }
    response = _client(lead).post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    approval = CredentialTarget.objects.get()
    assert (approval.host, approval.port, approval.approved_by, approval.note) == ("::1", 5433, lead, "replica")
    assert credential.get_password() == "s3cret"  # the password is untouched by the page

    removal = {
        **form,
        "targets-INITIAL_FORMS": "1",
        "targets-0-id": str(approval.pk),
        "targets-0-credential": str(credential.pk),
        "targets-0-DELETE": "on",
    }
    response = _client(lead).post(url, removal)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not CredentialTarget.objects.exists()


def test_approve_target_command():
    credential = _credential()
    instance = Instance.objects.create(name="shell", db_type="sqlserver", host="SQL1", port=None, credential=credential)
    Instance.objects.create(name="bare", db_type="mysql", host="db1")
    out = call_command_output("approve_target", "shell")
    assert "shell: approved credential dba for sqlserver://sql1:1433." in out
    assert binding.approval_denial(instance) == ""
    approval = CredentialTarget.objects.get()
    assert approval.approved_by is None and approval.note.startswith("manage.py approve_target by ")
    assert "already approved" in call_command_output("approve_target", "shell")

    with pytest.raises(CommandError) as unknown:
        call_command("approve_target", "nope")
    assert unknown.value.returncode == 2 and "nope" in str(unknown.value)
    with pytest.raises(CommandError) as bare:
        call_command("approve_target", "bare")
    assert bare.value.returncode == 1 and "bare" in str(bare.value)


def call_command_output(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_migration_approves_every_pair_in_use():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([("instances", "0001_initial")])
    old = executor.loader.project_state([("instances", "0001_initial")]).apps
    OldCredential, OldInstance = old.get_model("instances", "Credential"), old.get_model("instances", "Instance")
    a, b = OldCredential.objects.create(name="a", username="a"), OldCredential.objects.create(name="b", username="b")
    OldInstance.objects.create(name="1", db_type="mysql", host="DB1", port=None, credential=a)
    OldInstance.objects.create(name="2", db_type="mysql", host="db1", port=3306, credential=a)  # the same target
    OldInstance.objects.create(name="3", db_type="postgresql", host="[::1]", port=6432, credential=b)
    OldInstance.objects.create(name="4", db_type="oracle", host="ora", port=None, credential=None)

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)
    rows = set(
        CredentialTarget.objects.values_list("credential__name", "db_type", "host", "port", "note", "approved_by")
    )
    assert rows == {("a", "mysql", "db1", 3306, "migration", None), ("b", "postgresql", "::1", 6432, "migration", None)}
