"""GET /api/instances/{id}/forecast/: body, query string, errors, permissions, CSV, schema."""

import csv
import io
import math
import statistics
from datetime import date

import pytest
from django.contrib.auth.models import Permission

from .conftest import MiB, add_history

pytestmark = pytest.mark.django_db

END = date(2025, 6, 30)
ROLES = {"anonymous": 401, "nobody": 403, "viewer": 200, "operator": 200, "superuser": 200}


@pytest.fixture
def orders(make_target):
    inst = make_target("orders", capacity_limit_bytes=300 * MiB)
    add_history(
        inst,
        END,
        40,
        {"sales": lambda i: (100 + i) * MiB, "logs": lambda i: 20 * MiB, "new": lambda i: None if i < 39 else MiB},
    )
    return inst


def url(inst, query=""):
    return f"/api/instances/{inst if isinstance(inst, int | str) else inst.pk}/forecast/{query}"


def test_body(viewer, orders):
    response = viewer.get(url(orders))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["instance_id"] == orders.pk and body["instance_name"] == "orders"
    assert (body["days"], body["window_start"], body["window_end"]) == (30, "2025-06-01", "2025-06-30")
    # 139 MiB + 20 MiB now (+1 MiB for the database that appeared today, not in the earlier totals).
    assert body["instance"] == {
        "current_size_bytes": 160 * MiB,
        "current_size_mb": 160.0,
        "growth_bytes_per_day": body["instance"]["growth_bytes_per_day"],
        "growth_mb_per_day": body["instance"]["growth_mb_per_day"],
        "predicted_size_bytes_30d": body["instance"]["predicted_size_bytes_30d"],
        "predicted_size_mb_30d": body["instance"]["predicted_size_mb_30d"],
        "predicted_size_bytes_90d": body["instance"]["predicted_size_bytes_90d"],
        "predicted_size_mb_90d": body["instance"]["predicted_size_mb_90d"],
        "sample_count": 30,
        "window_start": "2025-06-01",
        "window_end": "2025-06-30",
        "capacity_limit_bytes": 300 * MiB,
        "capacity_limit_mb": 300.0,
        "days_until_full": body["instance"]["days_until_full"],
        "footprint_bytes": None,  # no engine told an on-disk size here
    }
    # The totals of the window (days 10..39) through an independent least-squares fit.
    totals = [(100 + i + 20 + (1 if i == 39 else 0)) * MiB for i in range(10, 40)]
    slope, _intercept = statistics.linear_regression(range(30), totals)
    assert body["instance"]["growth_bytes_per_day"] == pytest.approx(slope, abs=0.01)
    assert body["instance"]["predicted_size_bytes_30d"] == round(160 * MiB + 30 * slope)
    assert body["instance"]["days_until_full"] == math.ceil(140 * MiB / slope)
    databases = {db["database_name"]: db for db in body["databases"]}
    assert list(databases) == ["logs", "new", "sales"]
    assert databases["sales"] == {
        "database_name": "sales",
        "current_size_bytes": 139 * MiB,
        "current_size_mb": 139.0,
        "growth_bytes_per_day": 1048576.0,
        "growth_mb_per_day": 1.0,
        "predicted_size_bytes_30d": 169 * MiB,
        "predicted_size_mb_30d": 169.0,
        "predicted_size_bytes_90d": 229 * MiB,
        "predicted_size_mb_90d": 229.0,
        "sample_count": 30,
        "window_start": "2025-06-01",
        "window_end": "2025-06-30",
    }
    assert databases["logs"]["growth_bytes_per_day"] == 0
    assert databases["new"]["sample_count"] == 1
    assert databases["new"]["growth_bytes_per_day"] is None and databases["new"]["predicted_size_mb_30d"] is None


def test_days(viewer, orders):
    assert viewer.get(url(orders, "?days=")).json()["days"] == 30
    body = viewer.get(url(orders, "?days=7")).json()
    assert (body["days"], body["window_start"]) == (7, "2025-06-24")
    assert body["instance"]["sample_count"] == 7
    assert viewer.get(url(orders, "?days=730")).json()["instance"]["sample_count"] == 40


@pytest.mark.parametrize("days", ["6", "731", "abc", "1.5", "-30", "30&days=x"])
def test_a_bad_days_is_a_400_naming_it(viewer, orders, days):
    response = viewer.get(url(orders, f"?days={days}"))
    assert response.status_code == 400
    assert "days" in response.json()


def test_never_collected(viewer, make_target):
    inst = make_target("new")
    body = viewer.get(url(inst)).json()
    assert body["databases"] == [] and body["window_end"] is None
    assert body["instance"]["sample_count"] == 0 and body["instance"]["days_until_full"] is None


@pytest.mark.parametrize("pk", ["999999", "abc", "1.5", "99999999999999999999999"])
def test_unknown_instance(viewer, pk):
    response = viewer.get(url(pk))
    assert response.status_code == 404
    assert pk in response.json()["detail"]


@pytest.mark.parametrize("role, expected", ROLES.items())
def test_permissions(client_for, orders, role, expected):
    response = client_for(role).get(url(orders))
    assert response.status_code == expected
    if expected in (401, 403):
        assert response.json()["detail"]
    assert client_for(role).post(url(orders)).status_code in (401, 403, 405)  # reading only


def test_unknown_ids_do_not_leak_without_permission(client_for):
    assert client_for("nobody").get(url(999999)).status_code == 403


def test_reading_history_is_what_it_takes(client_for, users, orders):
    users["nobody"].user_permissions.set(Permission.objects.filter(codename="view_instance"))
    assert client_for("nobody").get(url(orders)).status_code == 403
    users["nobody"].user_permissions.set(Permission.objects.filter(codename="view_databasesizestat"))
    assert client_for("nobody").get(url(orders)).status_code == 200


def test_token_authentication(users, orders):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=users["viewer"])
    client = APIClient()
    assert client.get(url(orders)).status_code == 401
    assert client.get(url(orders), headers={"authorization": f"Token {token.key}"}).status_code == 200


@pytest.mark.parametrize("databases", [2, 30])
def test_query_count_does_not_grow_with_databases(viewer, make_target, databases, django_assert_num_queries):
    inst = make_target("wide")
    add_history(inst, END, 30, {f"db{n:02}": lambda i, n=n: (n + i) * MiB for n in range(databases)})
    viewer.get(url(inst))
    # Session, user, user and group permissions, the instance, then the forecast's two queries.
    with django_assert_num_queries(7):
        response = viewer.get(url(inst))
    assert len(response.json()["databases"]) == databases


def test_csv(viewer, orders):
    response = viewer.get(url(orders, "?format=csv&days=7"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-forecast-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["scope"], r["database_name"]) for r in rows] == [
        ("instance", ""),
        ("database", "logs"),
        ("database", "new"),
        ("database", "sales"),
    ]
    instance, sales = rows[0], rows[3]
    assert instance["instance_name"] == "orders"
    assert instance["capacity_limit_bytes"] == str(300 * MiB) and instance["capacity_limit_mb"] == "300.0"
    assert instance["days_until_full"] and instance["sample_count"] == "7"
    assert sales["growth_bytes_per_day"] == "1048576.0" and sales["growth_mb_per_day"] == "1.0"
    assert sales["predicted_size_bytes_30d"] == str(169 * MiB) and sales["predicted_size_mb_90d"] == "229.0"
    assert sales["window_start"] == "2025-06-24" and sales["capacity_limit_bytes"] == ""
    assert rows[2]["growth_bytes_per_day"] == ""  # one sample: no trend


def test_csv_errors_stay_json(viewer, client_for, orders):
    bad = viewer.get(url(orders, "?format=csv&days=2"))
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert "days" in bad.json()
    forbidden = client_for("nobody").get(url(orders, "?format=csv"))
    assert forbidden.status_code == 403 and forbidden.json()["detail"]
    assert viewer.get(url(999999, "?format=csv")).status_code == 404


def test_format_json_still_works(viewer, orders):
    response = viewer.get(url(orders, "?format=json"))
    assert response.status_code == 200 and response.json()["instance_name"] == "orders"


def test_schema(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/instances/{id}/forecast/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["days"]["schema"]["minimum"] == 7 and parameters["days"]["schema"]["maximum"] == 730
    assert set(parameters["format"]["schema"]["enum"]) == {"json", "csv"}
    assert parameters["id"]["in"] == "path"
    trend = schema["components"]["schemas"]["InstanceTrend"]["properties"]
    assert {"growth_bytes_per_day", "predicted_size_bytes_30d", "predicted_size_bytes_90d", "days_until_full"} <= set(
        trend
    )
