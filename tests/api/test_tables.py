"""GET /api/instances/{id}/tables/: a database's kept tables of a day, one table's history, CSV, 400s."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings

from capacity.services.collect import save_sizes
from instances.engines import CollectResult, DatabaseSize, TableSize
from instances.models import Instance

from .test_csv import read_csv

pytestmark = pytest.mark.django_db


def _collect(instance, when, tables):
    save_sizes(
        instance,
        CollectResult(
            databases=[
                DatabaseSize(name, sum(t.total_size_bytes for t in ts), sum(t.data_size_bytes for t in ts))
                for name, ts in tables.items()
            ],
            tables=tables,
        ),
        when,
    )


def t(name, total, schema="public"):
    return TableSize(schema, name, 5, total - 10, 10, None, total)


@pytest.fixture
def shop(db):
    inst = Instance.objects.create(name="shop", db_type="postgresql", host="db1")
    with override_settings(CAPACITY_TABLES_TOP_N=2):
        _collect(inst, datetime(2026, 3, 1, 3, tzinfo=UTC), {"a/b": [t("orders", 500), t("items", 300), t("x", 50)]})
        _collect(inst, datetime(2026, 3, 2, 3, tzinfo=UTC), {"a/b": [t("orders", 700), t("items", 300), t("x", 50)]})
    return inst


def url(inst):
    return f"/api/instances/{inst.pk}/tables/"


def test_latest_day_largest_first_with_the_other_row_last(viewer, shop):
    response = viewer.get(url(shop), {"database_name": "a/b"})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(r["table_name"], r["total_size_bytes"], r["is_other"]) for r in rows] == [
        ("orders", 700, False),
        ("items", 300, False),
        (None, 50, True),
    ]
    assert rows[-1]["schema_name"] is None and rows[0]["schema_name"] == "public"
    assert {"rows_estimate", "data_size_bytes", "index_size_bytes", "total_size_mb"} <= set(rows[0])
    assert {r["collected_date"] for r in rows} == {"2026-03-02"}


def test_date_and_table_history(viewer, shop):
    day1 = viewer.get(url(shop), {"database_name": "a/b", "date": "2026-03-01"}).json()["results"]
    assert [r["total_size_bytes"] for r in day1] == [500, 300, 50]
    history = viewer.get(url(shop), {"database_name": "a/b", "table_name": "orders"}).json()["results"]
    assert [(r["collected_date"], r["total_size_bytes"]) for r in history] == [("2026-03-02", 700), ("2026-03-01", 500)]
    narrowed = viewer.get(url(shop), {"database_name": "a/b", "table_name": "orders", "start_date": "2026-03-02"})
    assert [r["total_size_bytes"] for r in narrowed.json()["results"]] == [700]


def test_csv(viewer, shop):
    header, rows = read_csv(viewer.get(url(shop), {"database_name": "a/b", "format": "csv"}))
    assert "table_name" in header and "is_other" in header
    assert [r["table_name"] for r in rows] == ["orders", "items", ""]


@pytest.mark.parametrize(
    "params, word",
    [({}, "database_name"), ({"database_name": "a/b", "date": "yesterday"}, "date")],
)
def test_bad_input_is_a_400_naming_the_parameter(viewer, shop, params, word):
    response = viewer.get(url(shop), params)
    assert response.status_code == 400
    assert word in response.content.decode()


def test_unknown_database_is_an_empty_list_and_unknown_instance_a_404(viewer, shop):
    assert viewer.get(url(shop), {"database_name": "nope"}).json()["results"] == []
    assert viewer.get("/api/instances/99999/tables/", {"database_name": "a/b"}).status_code == 404


def test_permissions(client_for, users, shop):
    assert client_for("anonymous").get(url(shop), {"database_name": "a/b"}).status_code in (401, 403)
    assert client_for("nobody").get(url(shop), {"database_name": "a/b"}).status_code == 403
    users["nobody"].user_permissions.set(Permission.objects.filter(codename="view_databasesizestat"))
    assert client_for("nobody").get(url(shop), {"database_name": "a/b"}).status_code == 403
    users["nobody"].user_permissions.set(Permission.objects.filter(codename="view_tablesizestat"))
    assert client_for("nobody").get(url(shop), {"database_name": "a/b"}).status_code == 200


def test_allocated_size_on_the_database_sizes(viewer, shop):
    rows = viewer.get(f"/api/instances/{shop.pk}/database-sizes/").json()["results"]
    assert "allocated_size_bytes" in rows[0] and "allocated_size_mb" in rows[0]
