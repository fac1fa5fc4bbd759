"""?format=csv on the history endpoints: the same rows as the JSON, every one of them, for spreadsheets."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.api.renderers import CSVExportMixin

from .conftest import add_collection

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def orders(make_target):
    """Three days: `old` vanishes on day 3, `new` appears on day 2, and one name is Chinese."""
    inst = make_target("orders")
    add_collection(inst, date(2025, 3, 1), {"sales": 100 * MiB, "old": 10 * MiB, "订单": 3 * MiB})
    add_collection(inst, date(2025, 3, 2), {"sales": 110 * MiB, "old": 10 * MiB, "new": MiB, "订单": 4 * MiB})
    add_collection(inst, date(2025, 3, 3), {"sales": 130 * MiB, "new": 2 * MiB, "订单": 5 * MiB}, {"old": 10 * MiB})
    return inst


def read_csv(response):
    """Header and rows of a CSV answer, after checking what every CSV answer must be."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(BOM), raw[:20]
    reader = csv.reader(io.StringIO(raw[len(BOM) :].decode("utf-8"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def as_csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_rows(client, path, query):
    response = client.get(f"{path}?{query}&page_size=1000")
    assert response.status_code == 200, response.json()
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def assert_same_rows(client, path, query=""):
    header, rows = read_csv(client.get(f"{path}?{query}&format=csv"))
    expected = json_rows(client, path, query)
    assert expected, "the comparison needs rows"
    assert header == list(expected[0])
    assert rows == [{key: as_csv_cell(value) for key, value in row.items()} for row in expected]
    return header, rows


@pytest.mark.parametrize(
    "query",
    [
        "",
        "start_date=2025-03-02",
        "end_date=2025-03-01",
        "database_name=sales",
        "search=E",
        "latest_only=true",
        "latest_only=true&include_deleted=true",
        "include_deleted=true&collected_date=2025-03-03",
        "min_size_bytes=4194304",
    ],
)
def test_history_csv_has_the_rows_of_the_json(viewer, orders, query):
    assert_same_rows(viewer, f"/api/instances/{orders.pk}/database-sizes/", query)


def test_history_csv_columns_and_cells(viewer, orders):
    header, rows = read_csv(viewer.get(f"/api/instances/{orders.pk}/database-sizes/?format=csv&database_name=sales"))
    assert header[:6] == ["id", "instance", "database_name", "size_bytes", "size_mb", "data_size_bytes"]
    newest = rows[0]
    assert newest["collected_date"] == "2025-03-03"
    assert newest["size_bytes"] == str(130 * MiB) and newest["size_mb"] == "130.0"
    assert newest["log_size_bytes"] == "" and newest["is_deleted"] == "false"


def test_chinese_names_survive_and_name_the_file(viewer, make_target):
    inst = make_target("订单库-主")
    add_collection(inst, date(2025, 3, 1), {"客户": 5 * MiB})
    response = viewer.get(f"/api/instances/{inst.pk}/database-sizes/?format=csv")
    disposition = response["Content-Disposition"]
    _header, rows = read_csv(response)
    assert [row["database_name"] for row in rows] == ["客户"]
    # An ASCII name for old clients, the exact one (RFC 6266) for the others.
    assert 'filename="___-_-database-sizes-' in disposition
    assert "filename*=utf-8''%E8%AE%A2%E5%8D%95%E5%BA%93-%E4%B8%BB-database-sizes-" in disposition
    assert disposition.endswith(".csv")


def test_filename_names_instance_and_day(viewer, orders):
    response = viewer.get(f"/api/instances/{orders.pk}/database-sizes/?format=csv")
    assert response["Content-Disposition"].startswith('attachment; filename="orders-database-sizes-20')
    assert response["Content-Disposition"].endswith('.csv"')


def test_csv_exports_everything_not_one_page(viewer, make_target):
    inst = make_target("big")
    first = date(2025, 1, 1)
    for day in range(30):
        add_collection(inst, first + timedelta(days=day), {f"db{n}": (n + 1) * MiB for n in range(4)})
    path = f"/api/instances/{inst.pk}/database-sizes/"
    assert viewer.get(path).json()["count"] == 120  # 3 pages of JSON at the default 50
    _header, rows = read_csv(viewer.get(f"{path}?format=csv&page=2&page_size=10"))
    assert len(rows) == 120
    assert {row["collected_date"] for row in rows} == {(first + timedelta(days=d)).isoformat() for d in range(30)}


def test_csv_query_count_does_not_grow_with_rows(viewer, make_target):
    def queries(inst):
        with CaptureQueriesContext(connection) as ctx:
            response = viewer.get(f"/api/instances/{inst.pk}/database-sizes/?format=csv")
            read_csv(response)
        return len(ctx.captured_queries)

    small, big = make_target("small"), make_target("big")
    add_collection(small, date(2025, 1, 1), {"a": 1})
    for day in range(25):
        add_collection(big, date(2025, 1, 1) + timedelta(days=day), {f"db{n}": n + 1 for n in range(10)})
    assert queries(big) == queries(small)


def test_csv_is_streamed_and_refused_past_the_limit(viewer, orders, monkeypatch):
    path = f"/api/instances/{orders.pk}/database-sizes/"
    monkeypatch.setattr(CSVExportMixin, "csv_max_rows", 10)
    response = viewer.get(f"{path}?format=csv")
    assert response.streaming
    assert len(read_csv(response)[1]) == 10  # exactly at the limit: exported
    monkeypatch.setattr(CSVExportMixin, "csv_max_rows", 9)
    refused = viewer.get(f"{path}?format=csv")
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/json"
    assert "more than 9 rows" in refused.json()["detail"] and "start_date" in refused.json()["detail"]
    assert len(read_csv(viewer.get(f"{path}?format=csv&start_date=2025-03-02"))[1]) == 7


def test_an_empty_result_is_a_header(viewer, orders):
    header, rows = read_csv(viewer.get(f"/api/instances/{orders.pk}/database-sizes/?format=csv&database_name=none"))
    assert rows == [] and "database_name" in header


def test_cells_that_spreadsheets_would_run_as_formulas_are_defused(viewer, make_target):
    inst = make_target("sneaky")
    add_collection(inst, date(2025, 3, 1), {'=HYPERLINK("http://x","y")': 1, "-shrinking": 2, "@home": 3, "plain": 4})
    _header, rows = read_csv(viewer.get(f"/api/instances/{inst.pk}/database-sizes/?format=csv"))
    assert sorted(row["database_name"] for row in rows) == [
        "'-shrinking",
        '\'=HYPERLINK("http://x","y")',
        "'@home",
        "plain",
    ]


def test_accept_header_also_gives_csv(viewer, orders):
    response = viewer.get(f"/api/instances/{orders.pk}/database-sizes/", headers={"accept": "text/csv"})
    assert len(read_csv(response)[1]) == 10


@pytest.mark.parametrize("query", ["", "include_deleted=true", "search=单"])
def test_databases_csv(viewer, orders, query):
    _header, rows = assert_same_rows(viewer, f"/api/instances/{orders.pk}/databases/", query)
    assert {row["collected_date"] for row in rows} == {"2025-03-03"}


@pytest.mark.parametrize("query", ["period=month", "period=week", "period=week&database_name=sales"])
def test_aggregations_csv(viewer, orders, query):
    header, rows = assert_same_rows(viewer, f"/api/instances/{orders.pk}/database-sizes/aggregations/", query)
    assert {"period_start", "avg_size_bytes", "avg_size_mb", "growth_bytes", "sample_count"} <= set(header)


def test_aggregations_csv_file_name(viewer, orders):
    response = viewer.get(f"/api/instances/{orders.pk}/database-sizes/aggregations/?format=csv")
    assert response["Content-Disposition"].startswith('attachment; filename="orders-database-size-aggregations-')


@pytest.mark.parametrize("query", ["", "db_type=mysql", "db_type=postgresql", "is_active=true"])
def test_total_sizes_csv(viewer, orders, make_target, query):
    pg = make_target("pg1", db_type="postgresql")
    add_collection(pg, date(2025, 3, 3), {"app": 7 * MiB})
    make_target("never-collected", db_type="postgresql")
    header, rows = assert_same_rows(viewer, "/api/instances/total-sizes/", query)
    assert header == [
        "instance_id",
        "instance_name",
        "db_type",
        "is_active",
        "total_size_bytes",
        "total_size_mb",
        "database_count",
        "user_total_size_bytes",
        "user_total_size_mb",
        "user_database_count",
        "collected_date",
    ]


def test_total_sizes_csv_file_name(viewer, orders):
    response = viewer.get("/api/instances/total-sizes/?format=csv")
    assert response["Content-Disposition"].startswith('attachment; filename="instance-total-sizes-')


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/api/instances/{pk}/database-sizes/?start_date=2025-13-01", 400, ["start_date"]),
        ("/api/instances/{pk}/database-sizes/?latest_only=perhaps", 400, ["latest_only"]),
        ("/api/instances/{pk}/databases/?is_deleted=nah", 400, ["is_deleted"]),
        ("/api/instances/{pk}/database-sizes/aggregations/?period=decade", 400, ["decade"]),
        ("/api/instances/total-sizes/?db_type=db2", 400, ["db_type"]),
        ("/api/instances/999999/database-sizes/", 404, ["999999"]),
        ("/api/instances/999999/database-sizes/aggregations/", 404, ["999999"]),
    ],
)
def test_errors_stay_json_with_their_reason(viewer, orders, path, status, words):
    response = viewer.get(path.format(pk=orders.pk) + ("&" if "?" in path else "?") + "format=csv")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response
    text = response.content.decode()
    for word in words:
        assert word in text


@pytest.mark.parametrize(
    "path",
    [
        "/api/instances/{pk}/database-sizes/",
        "/api/instances/{pk}/databases/",
        "/api/instances/{pk}/database-sizes/aggregations/",
        "/api/instances/total-sizes/",
        "/api/instances/{pk}/forecast/",
    ],
)
def test_csv_needs_the_same_permission(client_for, orders, path):
    for role, status in (("anonymous", 401), ("nobody", 403)):
        response = client_for(role).get(path.format(pk=orders.pk) + "?format=csv")
        assert response.status_code == status
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/instances/{pk}/database-sizes/?database_name=sales&format=json",
        "/api/instances/{pk}/databases/?format=json",
        "/api/instances/{pk}/database-sizes/aggregations/?format=json&period=week",
        "/api/instances/total-sizes/?format=json&db_type=mysql",
        "/api/instances/{pk}/database-sizes/summary/?format=json",
        "/api/instances/?format=json",
    ],
)
def test_format_json_keeps_working_and_filters_ignore_format(viewer, orders, path):
    response = viewer.get(path.format(pk=orders.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()


def test_csv_is_offered_only_where_rows_are_listed(viewer, orders):
    # The single-object answers stay JSON; asking them for CSV is a JSON 404.
    for path in (
        "/api/instances/",
        f"/api/instances/{orders.pk}/",
        f"/api/instances/{orders.pk}/database-sizes/total/",
    ):
        response = viewer.get(path + "?format=csv")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


def test_schema_offers_csv_on_the_history_endpoints(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/instances/{instance_id}/database-sizes/",
        "/api/instances/{instance_id}/databases/",
        "/api/instances/{id}/database-sizes/aggregations/",
        "/api/instances/total-sizes/",
        "/api/instances/{id}/forecast/",
    ):
        operation = schema[path]["get"]
        formats = {p["name"]: p for p in operation["parameters"]}["format"]["schema"]["enum"]
        assert set(formats) == {"json", "csv"}, path
        assert "text/csv" in operation["responses"]["200"]["content"], path
    assert "format" not in {p["name"] for p in schema["/api/instances/"]["get"]["parameters"]}


def test_renderer_on_its_own():
    from common.api.renderers import CSVRenderer

    renderer = CSVRenderer()
    paginated = {"count": 2, "next": None, "previous": None, "results": [{"a": 1, "b": None}, {"a": 2, "c": True}]}
    assert renderer.render(paginated) == BOM + b"a,b,c\r\n1,,\r\n2,,true\r\n"
    assert renderer.render({"name": "=1+1"}) == BOM + b"name\r\n'=1+1\r\n"
    assert renderer.render([]) == BOM
    assert renderer.render(None) == b""
