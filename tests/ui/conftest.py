import pytest
from django.contrib.auth.models import Permission, User

from tests.ui.history import write_fleet

VIEW_PERMS = [
    "instances.view_instance",
    "instances.view_credential",
    "capacity.view_instancesizestat",
    "capacity.view_databasesizestat",
    "capacity.view_databaseinventory",
    "sync_sessions.view_syncsession",
    "sync_sessions.view_syncinstancerecord",
]


def _staff(username, perms):
    user = User.objects.create_user(username, password="pw-" + username, is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # fresh, so the permission cache is empty


@pytest.fixture
def viewer(db):
    """Staff who may look at everything but collect nothing."""
    return _staff("viewer", VIEW_PERMS)


@pytest.fixture
def operator(db):
    """Staff who may look and also collect capacity and test connections."""
    return _staff("operator", [*VIEW_PERMS, "instances.sync_capacity"])


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def fleet(db):
    return write_fleet()
