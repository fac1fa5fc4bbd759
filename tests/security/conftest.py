"""A hostile staff member and a stored production credential, for the security tests."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from instances import binding
from instances.models import Credential, Instance
from tests.loopback import closed_port

from .listener import RecordingListener

PRODUCTION_PASSWORD = "Prod-Secret-never-leaves-7d41"
VIEW_APPS = ("instances", "capacity", "sync_sessions")


def staff_user(django_user_model, username, codenames):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label__in=VIEW_APPS, codename__startswith="view_")
    for codename in codenames:
        app_label, code = codename.split(".")
        perms = perms | Permission.objects.filter(content_type__app_label=app_label, codename=code)
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def hostile(db, django_user_model):
    """May view everything, add and change instances and run collections; may NOT change credentials."""
    return staff_user(
        django_user_model,
        "mallory",
        ["instances.add_instance", "instances.change_instance", "instances.sync_capacity", "instances.add_credential"],
    )


@pytest.fixture
def manager(db, django_user_model):
    """A credential manager: may change credentials, so decides where their passwords go."""
    return staff_user(
        django_user_model,
        "dba-lead",
        [
            "instances.add_instance",
            "instances.change_instance",
            "instances.sync_capacity",
            "instances.change_credential",
        ],
    )


@pytest.fixture
def api_as():
    def make(user):
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def production_credential(db):
    credential = Credential(name="prod-dba", username="capacity_reader")
    credential.set_password(PRODUCTION_PASSWORD)
    credential.save()
    return credential


@pytest.fixture
def production_instance(production_credential):
    """A PostgreSQL instance whose approved target is a loopback port nothing listens on."""
    instance = Instance.objects.create(
        name="orders", db_type="postgresql", host="127.0.0.1", port=closed_port(), credential=production_credential
    )
    binding.approve(instance, note="set up by the DBA lead")
    return instance


@pytest.fixture
def listener():
    """A fake PostgreSQL server on 127.0.0.1 that asks for the password in clear and records it."""
    with RecordingListener() as server:
        yield server
