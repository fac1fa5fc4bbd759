"""/api/instances/{id}/database-sizes/ (history, total, summary) and /api/instances/{id}/databases/."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import add_collection, results

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


@pytest.fixture
def orders(make_target):
    """Three days of history: `old` vanishes on day 3, `new` appears on day 2."""
    inst = make_target("orders")
    add_collection(inst, date(2025, 3, 1), {"sales": 100 * MiB, "old": 10 * MiB})
    add_collection(inst, date(2025, 3, 2), {"sales": 110 * MiB, "old": 10 * MiB, "new": 1 * MiB})
    add_collection(inst, date(2025, 3, 3), {"sales": 130 * MiB, "new": 2 * MiB}, deleted={"old": 10 * MiB})
    return inst


def history(client, inst, query=""):
    response = client.get(f"/api/instances/{inst.pk}/database-sizes/?{query}")
    assert response.status_code == 200, response.json()
    return results(response)


def test_history_is_newest_first_without_deleted_rows(viewer, orders, make_target):
    other = make_target("other")
    add_collection(other, date(2025, 3, 3), {"elsewhere": 5})
    rows = history(viewer, orders)
    assert [(r["collected_date"], r["database_name"]) for r in rows] == [
        ("2025-03-03", "new"),
        ("2025-03-03", "sales"),
        ("2025-03-02", "new"),
        ("2025-03-02", "old"),
        ("2025-03-02", "sales"),
        ("2025-03-01", "old"),
        ("2025-03-01", "sales"),
    ]
    first = rows[1]
    assert first["instance"] == orders.pk
    assert first["size_bytes"] == 130 * MiB and first["size_mb"] == 130.0
    assert first["index_size_bytes"] == 130 * MiB // 4 and first["index_size_mb"] == 32.5
    assert first["log_size_bytes"] is None and first["log_size_mb"] is None
    assert first["is_deleted"] is False


def test_include_deleted(viewer, orders):
    rows = history(viewer, orders, "include_deleted=true&collected_date=2025-03-03")
    deleted = [r for r in rows if r["is_deleted"]]
    assert [r["database_name"] for r in deleted] == ["old"]
    assert deleted[0]["deleted_at"] is not None


@pytest.mark.parametrize(
    "query, expected",
    [
        ("start_date=2025-03-02", {("2025-03-03", "new"), ("2025-03-03", "sales"), ("2025-03-02", "new"),
                                   ("2025-03-02", "old"), ("2025-03-02", "sales")}),
        ("end_date=2025-03-01", {("2025-03-01", "old"), ("2025-03-01", "sales")}),
        ("start_date=2025-03-02&end_date=2025-03-02", {("2025-03-02", "new"), ("2025-03-02", "old"),
                                                       ("2025-03-02", "sales")}),
        ("database_name=sales", {("2025-03-03", "sales"), ("2025-03-02", "sales"), ("2025-03-01", "sales")}),
        ("database_name=SALES", set()),
        ("search=LE", {("2025-03-03", "sales"), ("2025-03-02", "sales"), ("2025-03-01", "sales")}),
        ("search=e", {("2025-03-03", "new"), ("2025-03-03", "sales"), ("2025-03-02", "new"), ("2025-03-02", "sales"),
                      ("2025-03-01", "sales")}),
        ("min_size_bytes=104857600&end_date=2025-03-01", {("2025-03-01", "sales")}),
        ("is_deleted=true", {("2025-03-03", "old")}),
    ],
)  # fmt: skip
def test_history_filters(viewer, orders, query, expected):
    assert {(r["collected_date"], r["database_name"]) for r in history(viewer, orders, query)} == expected


def test_latest_only_gives_the_newest_row_of_each_database(viewer, orders):
    rows = history(viewer, orders, "latest_only=true")
    assert [(r["database_name"], r["collected_date"], r["size_bytes"]) for r in rows] == [
        ("new", "2025-03-03", 2 * MiB),
        ("sales", "2025-03-03", 130 * MiB),
    ]


def test_latest_only_with_deleted_shows_the_vanished_database_as_deleted(viewer, orders):
    rows = history(viewer, orders, "latest_only=true&include_deleted=true")
    assert {(r["database_name"], r["is_deleted"]) for r in rows} == {("new", False), ("sales", False), ("old", True)}


def test_latest_only_within_a_range(viewer, orders):
    rows = history(viewer, orders, "latest_only=true&end_date=2025-03-02")
    assert {(r["database_name"], r["collected_date"]) for r in rows} == {
        ("new", "2025-03-02"),
        ("old", "2025-03-02"),
        ("sales", "2025-03-02"),
    }


def test_latest_only_costs_the_same_queries_whatever_the_history(viewer, orders):
    viewer.get(f"/api/instances/{orders.pk}/database-sizes/?latest_only=true")
    with CaptureQueriesContext(connection) as ctx:
        viewer.get(f"/api/instances/{orders.pk}/database-sizes/?latest_only=true")
    row_queries = [q["sql"] for q in ctx.captured_queries if "capacity_databasesizestat" in q["sql"]]
    # The newest day of each database (a probe per inventory row), the count, the page; before them the
    # newest collection day, read from the instance totals.
    assert len(row_queries) == 3, row_queries
    assert not any("ROW_NUMBER" in sql.upper() for sql in row_queries)
    for day in range(4, 28):
        add_collection(orders, date(2025, 3, day), {"sales": (130 + day) * MiB, "new": 2 * MiB})
    with CaptureQueriesContext(connection) as more:
        rows = history(viewer, orders, "latest_only=true")
    assert len(more.captured_queries) == len(ctx.captured_queries)
    assert [(r["database_name"], r["collected_date"]) for r in rows] == [("new", "2025-03-27"), ("sales", "2025-03-27")]


def test_history_pagination(viewer, orders):
    body = viewer.get(f"/api/instances/{orders.pk}/database-sizes/?page_size=2&page=3").json()
    assert body["count"] == 7
    assert [(r["collected_date"], r["database_name"]) for r in body["results"]] == [
        ("2025-03-02", "sales"),
        ("2025-03-01", "old"),
    ]
    assert body["next"] and body["previous"]


def test_history_query_count_does_not_grow(viewer, make_target):
    inst = make_target("big")
    add_collection(inst, date(2025, 1, 1), {"a": 1})
    url = f"/api/instances/{inst.pk}/database-sizes/"
    viewer.get(url)
    with CaptureQueriesContext(connection) as few:
        viewer.get(url)
    for day in range(2, 20):
        add_collection(inst, date(2025, 1, day), {f"db{i}": i for i in range(10)})
    with CaptureQueriesContext(connection) as many:
        assert len(results(viewer.get(url))) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


def test_total(viewer, orders):
    body = viewer.get(f"/api/instances/{orders.pk}/database-sizes/total/").json()
    assert body == {
        "instance_id": orders.pk,
        "total_size_bytes": 132 * MiB,
        "total_size_mb": 132.0,
        "database_count": 2,
        "collected_date": "2025-03-03",
        "collected_at": body["collected_at"],
    }


def test_total_of_an_instance_never_collected_is_404_with_a_message(viewer, make_target):
    inst = make_target("fresh")
    response = viewer.get(f"/api/instances/{inst.pk}/database-sizes/total/")
    assert response.status_code == 404
    assert "fresh" in response.json()["detail"]


def test_summary(viewer, orders):
    body = viewer.get(f"/api/instances/{orders.pk}/database-sizes/summary/").json()
    assert body == {
        "total_databases": 2,
        "total_size_bytes": 132 * MiB,
        "total_size_mb": 132.0,
        "average_size_bytes": 66 * MiB,
        "average_size_mb": 66.0,
        "largest_database": {"database_name": "sales", "size_bytes": 130 * MiB, "size_mb": 130.0},
        "growth_rate": 20.0,  # 110 MiB on the first day, 132 MiB on the last
        "sample_count": 3,
        "start_date": "2025-03-01",
        "end_date": "2025-03-03",
    }


def test_summary_over_a_range(viewer, orders):
    body = viewer.get(
        f"/api/instances/{orders.pk}/database-sizes/summary/?start_date=2025-03-02&end_date=2025-03-02"
    ).json()
    assert body["total_databases"] == 3
    assert body["total_size_bytes"] == 121 * MiB
    assert body["average_size_bytes"] == round(121 * MiB / 3)
    assert body["largest_database"]["database_name"] == "sales"
    assert body["growth_rate"] is None  # one sample
    assert body["sample_count"] == 1
    assert (body["start_date"], body["end_date"]) == ("2025-03-02", "2025-03-02")

    body = viewer.get(f"/api/instances/{orders.pk}/database-sizes/summary/?start_date=2025-03-02").json()
    assert body["growth_rate"] == round((132 - 121) / 121 * 100, 2)


def test_summary_with_no_collection_in_the_range(viewer, orders):
    body = viewer.get(f"/api/instances/{orders.pk}/database-sizes/summary/?start_date=2026-01-01").json()
    assert body == {
        "total_databases": 0,
        "total_size_bytes": 0,
        "total_size_mb": 0.0,
        "average_size_bytes": None,
        "average_size_mb": None,
        "largest_database": None,
        "growth_rate": None,
        "sample_count": 0,
        "start_date": "2026-01-01",
        "end_date": None,
    }


def test_summary_takes_at_most_two_queries_of_its_own(viewer, orders):
    url = f"/api/instances/{orders.pk}/database-sizes/summary/"
    viewer.get(url)
    with CaptureQueriesContext(connection) as ctx:
        viewer.get(url)
    own = [q for q in ctx.captured_queries if 'FROM "capacity_' in q["sql"]]
    assert len(own) <= 2, "\n".join(q["sql"] for q in own)


def test_databases_as_of_the_latest_collection(viewer, orders):
    rows = results(viewer.get(f"/api/instances/{orders.pk}/databases/"))
    assert [(r["database_name"], r["collected_date"], r["size_bytes"]) for r in rows] == [
        ("new", "2025-03-03", 2 * MiB),
        ("sales", "2025-03-03", 130 * MiB),
    ]
    assert set(rows[0]) >= {"database_name", "size_bytes", "size_mb", "data_size_bytes", "index_size_bytes",
                            "log_size_bytes", "collected_date", "collected_at", "is_deleted"}  # fmt: skip
    with_deleted = results(viewer.get(f"/api/instances/{orders.pk}/databases/?include_deleted=true"))
    assert [r["database_name"] for r in with_deleted] == ["new", "old", "sales"]
    assert [r["database_name"] for r in results(viewer.get(f"/api/instances/{orders.pk}/databases/?search=al"))] == [
        "sales"
    ]


def test_databases_of_an_instance_never_collected(viewer, make_target):
    inst = make_target("fresh")
    assert results(viewer.get(f"/api/instances/{inst.pk}/databases/")) == []


def test_databases_query_count_does_not_grow(viewer, make_target):
    inst = make_target("big")
    add_collection(inst, date(2025, 1, 1), {"a": 1})
    url = f"/api/instances/{inst.pk}/databases/"
    viewer.get(url)
    with CaptureQueriesContext(connection) as few:
        viewer.get(url)
    add_collection(inst, date(2025, 1, 2), {f"db{i}": i for i in range(40)})
    with CaptureQueriesContext(connection) as many:
        assert len(results(viewer.get(url))) == 40
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    "suffix", ["database-sizes/", "database-sizes/total/", "database-sizes/summary/", "databases/"]
)
def test_unknown_instance_is_404(viewer, suffix):
    for bad in ("999999", "abc"):
        response = viewer.get(f"/api/instances/{bad}/{suffix}")
        assert response.status_code == 404
        assert bad in response.json()["detail"]
