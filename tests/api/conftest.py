"""Users, clients and data shared by the API tests (the NetBox way: a test declares data, the base does the rest)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from instances.models import Credential, Instance

API_APPS = ("instances", "capacity", "sync_sessions")
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
    """Write one day's collection of an instance as the collection service would."""
    collected_at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timedelta(
        hours=3
    )
    rows = [
        DatabaseSizeStat(
            instance=instance,
            database_name=name,
            size_bytes=size,
            data_size_bytes=size - size // 4,
            index_size_bytes=size // 4,
            collected_date=day,
            collected_at=collected_at,
        )
        for name, size in sizes.items()
    ]
    rows += [
        DatabaseSizeStat(
            instance=instance,
            database_name=name,
            size_bytes=size,
            data_size_bytes=size,
            collected_date=day,
            collected_at=collected_at,
            is_deleted=True,
            deleted_at=collected_at,
        )
        for name, size in (deleted or {}).items()
    ]
    DatabaseSizeStat.objects.bulk_create(rows)
    record_inventory(instance, collected_at, sizes, deleted or {})
    return InstanceSizeStat.objects.create(
        instance=instance,
        total_size_bytes=sum(sizes.values()),
        database_count=len(sizes),
        collected_date=day,
        collected_at=collected_at,
    )


def record_inventory(instance, collected_at, sizes: dict[str, int], deleted: dict[str, int]) -> None:
    """Keep the inventory as the collection service does: every database's last size and state.

    A collection older than what the inventory already holds leaves it alone (history written out of order).
    """
    known = {row.database_name: row for row in DatabaseInventory.objects.filter(instance=instance)}
    for name, size, gone in [(n, s, False) for n, s in sizes.items()] + [(n, s, True) for n, s in deleted.items()]:
        row = known.get(name)
        if row is not None and max(row.last_seen_at, row.deleted_at or row.last_seen_at) > collected_at:
            continue
        if row is None:
            row = DatabaseInventory(instance=instance, database_name=name, first_seen_at=collected_at)
        row.restored_at = collected_at if (row.is_deleted and not gone) else row.restored_at
        row.last_seen_at = row.last_seen_at if (gone and row.pk) else collected_at
        row.last_size_bytes = size
        row.last_data_size_bytes = size if gone else size - size // 4
        row.last_index_size_bytes = None if gone else size // 4
        row.is_deleted = gone
        row.deleted_at = collected_at if gone else None
        row.save()


def results(response):
    """The rows of a paginated answer, after checking it is one."""
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}, body
    return body["results"]
