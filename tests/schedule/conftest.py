import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def api(db, django_user_model):
    """api("viewer"): a signed-in client. Roles: anonymous, nobody, viewer (every view_*), operator (+ sync)."""

    made = {}

    def make(role):
        if role == "anonymous":
            return _client()
        if role in made:
            return _client(made[role])
        user = made[role] = django_user_model.objects.create_user(role, password="pw")
        perms = Permission.objects.none()
        if role in ("viewer", "operator"):
            perms = Permission.objects.filter(
                content_type__app_label__in=("instances", "capacity", "sync_sessions"), codename__startswith="view_"
            )
        if role == "operator":
            perms = perms | Permission.objects.filter(content_type__app_label="instances", codename="sync_capacity")
        user.user_permissions.set(perms)
        return _client(user)

    return make
