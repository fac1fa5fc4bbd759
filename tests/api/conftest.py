"""Users, clients and data shared by the API tests (the NetBox way: a test declares data, the base does the rest)."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from capacity.models import InstanceSizeStat
from capacity.services.aggregate import refresh_instance
from instances.models import Credential, Instance
from tests.factories import at, record_collection

API_APPS = ("instances", "capacity", "sync_sessions", "alerting")
STORED_PASSWORD = "Pa55-never-shown-9f3c1e"


def _user(django_user_model, username, codenames=(), view_all=False, superuser=False):
    if superuser:
        return django_user_model.objects.create_superuser(username, f"{username}@example.com", "pw")
    user = django_user_model.objects.create_user(username, password="pw")
    perms = Permission.objects.none()
    if view_all:
        perms = Permission.objects.filter(content_type__app_label__in=API_APPS, codename__startswith="view_")
    for codename in codenames:
        app_label, code = codename.split(".")
        perms = perms | Permission.objects.filter(content_type__app_label=app_label, codename=code)
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def users(db, django_user_model):
    """anonymous (None), nobody (signed in, no permission), viewer, operator, superuser."""
    return {
        "anonymous": None,
        "nobody": _user(django_user_model, "nobody"),
        "viewer": _user(django_user_model, "viewer", view_all=True),
        "operator": _user(django_user_model, "operator", ["instances.sync_capacity"], view_all=True),
        "superuser": _user(django_user_model, "admin", superuser=True),
    }


@pytest.fixture
def client_for(users):
    """client_for("viewer") -> an APIClient signed in (session) as that user."""

    def make(role):
        client = APIClient()
        if users[role] is not None:
            client.force_login(users[role])
        return client

    return make


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


@pytest.fixture
def operator(client_for):
    return client_for("operator")


@pytest.fixture
def admin(client_for):
    return client_for("superuser")


@pytest.fixture
def credential(db):
    cred = Credential(name="dba", username="capacity_reader")
    cred.set_password(STORED_PASSWORD)
    cred.save()
    return cred


@pytest.fixture
def make_target(db, credential):
    """An Instance row (no server behind it) for tests that only read history."""

    def make(name, db_type="mysql", **fields):
        fields.setdefault("host", "db.example.com")
        fields.setdefault("credential", credential)
        return Instance.objects.create(name=name, db_type=db_type, **fields)

    return make


def add_collection(instance, day: date, sizes: dict[str, int], deleted: dict[str, int] | None = None):
    """One day's collection of an instance, written by the collection service (tests/factories.py)."""
    record_collection(instance, at(day), sizes, vanished=deleted or {})
    refresh_instance(instance)
    return InstanceSizeStat.objects.get(instance=instance, collected_date=day)


def results(response):
    """The rows of a paginated answer, after checking it is one."""
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}, body
    return body["results"]
