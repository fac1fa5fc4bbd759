"""/api/instances/ and /api/instances/total-sizes/: CRUD, latest totals, filters, pagination, query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from capacity.models import to_mib
from instances.models import Credential, Instance

from .conftest import add_collection, results

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def test_list_has_the_latest_total_of_each_instance(viewer, make_target):
    orders = make_target("orders")
    add_collection(orders, date(2025, 1, 1), {"a": 10 * MiB})
    add_collection(orders, date(2025, 1, 2), {"a": 12 * MiB, "b": 3 * MiB})
    make_target("fresh", db_type="postgresql")
    rows = {row["name"]: row for row in results(viewer.get("/api/instances/"))}
    assert rows["orders"]["latest_total_size_bytes"] == 15 * MiB
    assert rows["orders"]["latest_total_size_mb"] == 15.0
    assert rows["orders"]["latest_database_count"] == 2
    assert rows["orders"]["latest_collected_date"] == "2025-01-02"
    assert rows["orders"]["credential_name"] == "dba"
    assert rows["fresh"]["latest_total_size_bytes"] is None
    assert rows["fresh"]["latest_total_size_mb"] is None
    assert rows["fresh"]["latest_collected_date"] is None
    assert rows["fresh"]["effective_port"] == 5432


def test_detail(viewer, make_target):
    inst = make_target("orders", capacity_limit_bytes=2 * MiB + 5000)
    add_collection(inst, date(2025, 1, 1), {"a": 1234567})
    body = viewer.get(f"/api/instances/{inst.pk}/").json()
    assert body["id"] == inst.pk
    assert body["latest_total_size_bytes"] == 1234567
    assert body["latest_total_size_mb"] == to_mib(1234567)
    assert body["capacity_limit_mb"] == to_mib(2 * MiB + 5000)


def test_create_patch_delete(admin, credential):
    response = admin.post(
        "/api/instances/",
        {"name": "new", "db_type": "postgresql", "host": "10.0.0.5", "port": 6432, "credential": credential.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "new" and body["credential_name"] == "dba"
    assert body["latest_total_size_bytes"] is None
    pk = body["id"]

    response = admin.patch(f"/api/instances/{pk}/", {"is_active": False, "description": "retired"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    assert Instance.objects.get(pk=pk).description == "retired"

    assert admin.delete(f"/api/instances/{pk}/").status_code == 204
    assert not Instance.objects.filter(pk=pk).exists()


def test_read_only_fields_are_ignored_on_write(admin, make_target):
    inst = make_target("orders")
    response = admin.patch(
        f"/api/instances/{inst.pk}/",
        {"last_sync_status": "completed", "last_sync_error": "x", "latest_total_size_bytes": 5},
        format="json",
    )
    assert response.status_code == 200
    inst.refresh_from_db()
    assert inst.last_sync_status == "" and inst.last_sync_error == ""


def test_oracle_needs_a_service_name(admin, credential):
    payload = {"name": "ora", "db_type": "oracle", "host": "ora.example.com", "credential": credential.pk}
    response = admin.post("/api/instances/", payload, format="json")
    assert response.status_code == 400
    assert "options" in response.json()
    payload["options"] = {"service_name": "ORCLPDB1"}
    assert admin.post("/api/instances/", payload, format="json").status_code == 201


def test_patching_oracle_keeps_its_rules(admin, make_target):
    inst = make_target("ora", db_type="oracle", options={"sid": "ORCL"})
    response = admin.patch(f"/api/instances/{inst.pk}/", {"options": {}}, format="json")
    assert response.status_code == 400 and "options" in response.json()
    assert admin.patch(f"/api/instances/{inst.pk}/", {"description": "x"}, format="json").status_code == 200


def test_deleting_a_credential_in_use_is_a_conflict(admin, make_target, credential):
    make_target("orders")
    response = admin.delete(f"/api/credentials/{credential.pk}/")
    assert response.status_code == 409
    assert "orders" in response.json()["detail"]
    assert Credential.objects.filter(pk=credential.pk).exists()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("db_type=postgresql", {"pg1", "pg2"}),
        ("db_type=postgresql&db_type=mysql", {"pg1", "pg2", "my1"}),
        ("is_active=false", {"pg2"}),
        ("name=PG1", {"pg1"}),
        ("q=reporting", {"my1"}),
        ("credential=dba", {"pg1", "my1"}),
        ("host=pg.example.com", {"pg1", "pg2"}),
    ],
)
def test_filters(viewer, make_target, query, expected):
    make_target("pg1", db_type="postgresql", host="pg.example.com")
    make_target("pg2", db_type="postgresql", host="pg.example.com", is_active=False, credential=None)
    make_target("my1", description="The reporting replica")
    assert {row["name"] for row in results(viewer.get(f"/api/instances/?{query}"))} == expected


def test_credential_id_filter(viewer, make_target, credential):
    other = Credential.objects.create(name="other", username="u")
    make_target("a")
    make_target("b", credential=other)
    names = {row["name"] for row in results(viewer.get(f"/api/instances/?credential_id={other.pk}"))}
    assert names == {"b"}


def test_pagination(viewer, make_target):
    for i in range(7):
        make_target(f"inst-{i}")
    body = viewer.get("/api/instances/?page_size=3&page=2").json()
    assert body["count"] == 7
    assert [row["name"] for row in body["results"]] == ["inst-3", "inst-4", "inst-5"]
    assert body["next"] and body["previous"]
    assert len(viewer.get("/api/instances/?page_size=1000").json()["results"]) == 7


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/instances/", "/api/instances/total-sizes/", "/api/credentials/"])
def test_list_query_count_does_not_grow_with_rows(viewer, make_target, url, django_assert_max_num_queries):
    first = make_target("first")
    add_collection(first, date(2025, 1, 1), {"a": 1})
    viewer.get(url)  # warm the session and permission caches of the first request
    few = _count_queries(viewer, url)
    for i in range(15):
        inst = make_target(f"more-{i}", credential=Credential.objects.create(name=f"c{i}", username="u"))
        add_collection(inst, date(2025, 1, 1), {"a": 1, "b": 2})
    assert _count_queries(viewer, url) == few
    with django_assert_max_num_queries(8):
        viewer.get(url)


def test_total_sizes(viewer, make_target):
    a = make_target("a")
    add_collection(a, date(2025, 1, 1), {"x": 100})
    add_collection(a, date(2025, 1, 3), {"x": 150, "y": 50})
    make_target("b", db_type="postgresql")
    rows = results(viewer.get("/api/instances/total-sizes/"))
    assert rows == [
        {
            "instance_id": a.pk,
            "instance_name": "a",
            "db_type": "mysql",
            "is_active": True,
            "total_size_bytes": 200,
            "total_size_mb": 0.0,
            "database_count": 2,
            "user_total_size_bytes": 200,
            "user_total_size_mb": 0.0,
            "user_database_count": 2,
            "collected_date": "2025-01-03",
        },
        {
            "instance_id": rows[1]["instance_id"],
            "instance_name": "b",
            "db_type": "postgresql",
            "is_active": True,
            "total_size_bytes": None,
            "total_size_mb": None,
            "database_count": None,
            "user_total_size_bytes": None,
            "user_total_size_mb": None,
            "user_database_count": None,
            "collected_date": None,
        },
    ]
    only_pg = results(viewer.get("/api/instances/total-sizes/?db_type=postgresql"))
    assert [row["instance_name"] for row in only_pg] == ["b"]


def test_token_authentication(users, make_target):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    make_target("a")
    token = Token.objects.create(user=users["viewer"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/instances/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get("/api/instances/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert "token" in response.json()["detail"].lower()
