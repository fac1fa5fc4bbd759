"""API authentication: 401 + `WWW-Authenticate: Token` for missing or wrong credentials on every endpoint,
CSRF for sessions, the schema and docs behind the same authentication unless API_DOCS_PUBLIC."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def api_endpoints():
    """Every (method, path) the API routes, with path parameters filled in."""
    endpoints = []
    for path, _regex, method, _view in EndpointEnumerator().get_api_endpoints():
        if path in ("/api/schema/", "/api/docs/"):
            continue  # tested below: they may be opened on purpose
        endpoints.append((method.lower(), re.sub(r"\{[^}]+\}", "1", path)))
    return sorted(set(endpoints))


ENDPOINTS = api_endpoints()


def test_the_endpoint_list_covers_the_api():
    paths = {path for _method, path in ENDPOINTS}
    assert {"/api/instances/", "/api/credentials/1/", "/api/capacity/collect/", "/api/alert-rules/"} <= paths
    assert len(ENDPOINTS) > 25


def assert_token_challenge(response):
    assert response.status_code == 401, response.content[:300]
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"]


@pytest.mark.parametrize("method, path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_no_credentials_get_401_with_a_token_challenge(method, path):
    assert_token_challenge(getattr(APIClient(), method)(path, {} if method in ("post", "put", "patch") else None))


@pytest.mark.parametrize("method, path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_a_wrong_token_gets_401_with_a_token_challenge(method, path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = getattr(client, method)(path)
    assert_token_challenge(response)
    assert "token" in response.json()["detail"].lower()


@pytest.mark.parametrize("header", ["Token", "Token a b", "Bearer whatever", "Basic dXNlcjpwdw=="])
def test_malformed_or_foreign_authorization_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_token_challenge(client.get("/api/instances/"))


def test_csv_export_without_credentials_is_a_json_401():
    response = APIClient().get("/api/instances/total-sizes/?format=csv")
    assert_token_challenge(response)
    assert response["Content-Type"].startswith("application/json")


@pytest.fixture
def viewer(db):
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_instance", "view_credential"]))
    return user


def test_a_valid_token_reads_and_a_signed_in_user_without_permission_gets_403(viewer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    assert client.get("/api/instances/").status_code == 200
    # Authenticated but not allowed: 403, not a challenge to authenticate again.
    response = client.get("/api/sync-sessions/")
    assert response.status_code == 403 and "WWW-Authenticate" not in response
    assert client.post("/api/capacity/collect/").status_code == 403


def test_a_session_post_without_csrf_token_is_refused(viewer):
    viewer.user_permissions.add(Permission.objects.get(codename="add_credential"))
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)
    assert client.get("/api/instances/").status_code == 200
    response = client.post("/api/credentials/", {"name": "c", "username": "u"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    # The same user with a token needs no CSRF token: a token is not sent by the browser on its own.
    token_client = APIClient(enforce_csrf_checks=True)
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    assert token_client.post("/api/credentials/", {"name": "c", "username": "u"}, format="json").status_code == 201


def test_a_session_post_with_the_csrf_token_passes(viewer):
    viewer.user_permissions.add(Permission.objects.get(codename="add_credential"))
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)
    client.get("/admin/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/credentials/", {"name": "c", "username": "u"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content[:300]


# --- schema and docs ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_want_authentication(path):
    response = APIClient().get(path)
    assert response.status_code == 401, response.content[:300]
    assert response["WWW-Authenticate"] == "Token"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert client.get(path).status_code == 401


def test_docs_page_tells_a_browser_where_to_sign_in():
    response = APIClient().get("/api/docs/", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert "/admin/login/?next=/api/docs/" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_staff_with_a_session_and_token_clients_read_schema_and_docs(viewer, path):
    session = APIClient()
    session.force_login(viewer)
    assert session.get(path).status_code == 200
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    assert token.get(path).status_code == 200


def test_docs_page_fetches_the_schema_with_the_session(viewer):
    client = APIClient()
    client.force_login(viewer)
    html = client.get("/api/docs/").content.decode()
    assert "/api/schema/" in html
    assert client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_api_docs_public_opens_them(settings, path):
    settings.API_DOCS_PUBLIC = True
    assert APIClient().get(path).status_code == 200
    # Opening the docs opens nothing else.
    assert_token_challenge(APIClient().get("/api/instances/"))
