"""Who may do what: every endpoint against anonymous, nobody, viewer, operator and superuser."""

from datetime import date

import pytest

from sync_sessions.models import SyncSession

from .conftest import add_collection

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "nobody", "viewer", "operator", "superuser"]
# Anonymous API access is a 401 with `WWW-Authenticate: Token` (the contract); signed in without permission, 403.
READ = {"anonymous": 401, "nobody": 403, "viewer": 200, "operator": 200, "superuser": 200}

# (method, path, body, expected status per role). Targets are inactive or have no server behind
# them, so the collecting endpoints answer without reaching a network once past the permission check.
MATRIX = [
    ("get", "/api/credentials/", None, READ),
    ("get", "/api/credentials/{credential}/", None, READ),
    ("get", "/api/instances/", None, READ),
    ("get", "/api/instances/{instance}/", None, READ),
    ("get", "/api/instances/total-sizes/", None, READ),
    ("get", "/api/instances/{instance}/databases/", None, READ),
    ("get", "/api/instances/{instance}/database-sizes/", None, READ),
    ("get", "/api/instances/{instance}/database-sizes/total/", None, READ),
    ("get", "/api/instances/{instance}/database-sizes/summary/", None, READ),
    ("get", "/api/capacity/stats/", None, READ),
    ("get", "/api/sync-sessions/", None, READ),
    ("get", "/api/sync-sessions/{session}/", None, READ),
    (
        "post",
        "/api/credentials/",
        {"name": "new", "username": "u", "password": "p"},
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403, "superuser": 201},
    ),
    (
        "patch",
        "/api/credentials/{credential}/",
        {"description": "x"},
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403, "superuser": 200},
    ),
    (
        "delete",
        "/api/credentials/{spare_credential}/",
        None,
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403, "superuser": 204},
    ),
    (
        "post",
        "/api/instances/",
        {"name": "new", "db_type": "mysql", "host": "h"},
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403, "superuser": 201},
    ),
    (
        "patch",
        "/api/instances/{instance}/",
        {"description": "x"},
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403, "superuser": 200},
    ),
    (
        "delete",
        "/api/instances/{spare_instance}/",
        None,
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403, "superuser": 204},
    ),
    # Past the permission check these answer 409 (inactive) and 400 (no credential).
    (
        "post",
        "/api/instances/{instance}/sync-capacity/",
        None,
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 409, "superuser": 409},
    ),
    (
        "post",
        "/api/instances/{no_credential}/test-connection/",
        None,
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 400, "superuser": 400},
    ),
    (
        "post",
        "/api/capacity/collect/",
        None,
        {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 202, "superuser": 202},
    ),
]


@pytest.fixture
def targets(make_target, credential):
    from instances.models import Credential

    inst = make_target("inactive", is_active=False)
    add_collection(inst, date(2025, 1, 1), {"a": 1})
    session = SyncSession.objects.create(sync_type="manual", status="completed")
    return {
        "instance": inst.pk,
        "spare_instance": make_target("spare", is_active=False).pk,
        "no_credential": make_target("lonely", is_active=False, credential=None).pk,
        "credential": credential.pk,
        "spare_credential": Credential.objects.create(name="spare", username="u").pk,
        "session": session.session_id,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "method, path, body, expected", MATRIX, ids=[f"{method} {path}" for method, path, *_ in MATRIX]
)
def test_permission_matrix(client_for, targets, role, method, path, body, expected):
    client = client_for(role)
    kwargs = {"data": body, "format": "json"} if body is not None else {}
    response = getattr(client, method)(path.format(**targets), **kwargs)
    assert response.status_code == expected[role], response.content[:300]
    if response.status_code in (401, 403):
        assert response.json()["detail"]
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"


def test_view_permission_of_one_model_does_not_open_another(client_for, users, targets):
    from django.contrib.auth.models import Permission

    users["nobody"].user_permissions.set(Permission.objects.filter(codename="view_instance"))
    client = client_for("nobody")
    assert client.get("/api/instances/").status_code == 200
    assert client.get("/api/credentials/").status_code == 403
    assert client.get(f"/api/instances/{targets['instance']}/database-sizes/").status_code == 403
    assert client.get("/api/sync-sessions/").status_code == 403


def test_a_user_without_permission_cannot_probe_instance_ids(client_for, targets):
    client = client_for("nobody")
    assert client.get(f"/api/instances/{targets['instance']}/database-sizes/").status_code == 403
    assert client.get("/api/instances/999999/database-sizes/").status_code == 403
