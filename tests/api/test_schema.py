"""/api/schema/ builds cleanly and /api/docs/ is served from local files (no CDN)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = [
    "/api/credentials/",
    "/api/credentials/{id}/",
    "/api/instances/",
    "/api/instances/{id}/",
    "/api/instances/total-sizes/",
    "/api/instances/{id}/test-connection/",
    "/api/instances/{id}/sync-capacity/",
    "/api/instances/{instance_id}/databases/",
    "/api/instances/{instance_id}/database-sizes/",
    "/api/instances/{instance_id}/database-sizes/total/",
    "/api/instances/{instance_id}/database-sizes/summary/",
    "/api/capacity/stats/",
    "/api/capacity/collect/",
    "/api/sync-sessions/",
    "/api/sync-sessions/{session_id}/",
]


def test_schema_has_every_path_of_the_contract(admin_client):
    response = admin_client.get(reverse("schema") + "?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(CONTRACT_PATHS) <= set(schema["paths"])
    credential = schema["components"]["schemas"]["Credential"]["properties"]
    assert "password" not in credential and credential["has_password"]["readOnly"]
    assert schema["components"]["schemas"]["CredentialRequest"]["properties"]["password"]["writeOnly"]
    sizes = schema["components"]["schemas"]["DatabaseSizeStat"]["properties"]
    assert sizes["size_mb"]["type"] == "number"


def test_schema_generation_has_no_warnings():
    out, err = StringIO(), StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)
    assert "Warning" not in err.getvalue(), err.getvalue()


def test_docs_are_served_offline(admin_client):
    response = admin_client.get(reverse("docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert not asset.startswith(("http://", "https://", "//")), asset


def test_the_schema_says_what_answers_hold(admin_client):
    """Nullable where the answer can be null, "" in the error kinds, and the error answers documented."""
    schema = admin_client.get(reverse("schema") + "?format=json").json()
    components = schema["components"]["schemas"]
    assert components["AlertRule"]["properties"]["instance_name"]["nullable"]
    assert components["Instance"]["properties"]["credential_name"]["nullable"]
    kinds = [
        ref["$ref"].rsplit("/", 1)[1] for ref in components["SyncInstanceRecord"]["properties"]["error_kind"]["oneOf"]
    ]
    assert "" in components[kinds[1]]["enum"] and "auth" in components[kinds[0]]["enum"]
    patch = schema["paths"]["/api/alert-rules/{id}/"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(patch)
    assert patch["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
    delete = schema["paths"]["/api/credentials/{id}/"]["delete"]["responses"]
    assert "409" in delete
    page_size = next(p for p in schema["paths"]["/api/instances/"]["get"]["parameters"] if p["name"] == "page_size")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (1, 1000)
