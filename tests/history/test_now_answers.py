"""The "now" answers at any history length: query counts pinned, answers equal to what the history says.

Each request is counted on an instance with 40 days of history and on one with 400 days: the count must
be the same (and the pinned number), so no request reads per day. The answers are compared with the
newest rows found the slow obvious way.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from capacity.services import readmodels
from tests.ui.history import GIB, MIB, DatabasePlan, InstancePlan, write_history

pytestmark = pytest.mark.django_db

# request -> queries it costs, whatever the history's length (session and user included).
PINNED = {
    "latest_only": ("/api/instances/{pk}/database-sizes/?latest_only=true", 7),
    "latest_only_in_range": ("/api/instances/{pk}/database-sizes/?latest_only=true&end_date={week_ago}", 7),
    "databases": ("/api/instances/{pk}/databases/", 6),
    "summary": ("/api/instances/{pk}/database-sizes/summary/?start_date={year_ago}&end_date={today}", 5),
    "total": ("/api/instances/{pk}/database-sizes/total/", 4),
    "aggregations": (
        "/api/instances/{pk}/database-sizes/aggregations/?period=month",
        5,
    ),  # reads only: a GET no longer brings the aggregates up to date
    "forecast": ("/api/instances/{pk}/forecast/", 5),
    "one_database_a_year": (
        "/api/instances/{pk}/database-sizes/?database_name=sales&start_date={year_ago}&end_date={today}",
        5,
    ),
    "instances": ("/api/instances/", 4),
    "stats": ("/api/capacity/stats/", 6),
    "metrics": ("/metrics", 2),
    "dashboard": ("/admin/capacity/instancesizestat/dashboard/", 12),  # instances read once, growth ranked in SQL
    "instance_page": ("/admin/instances/instance/{pk}/capacity/", 13),  # + the carried-over databases of the latest day
    "database_sizes_admin": ("/admin/capacity/databasesizestat/", 6),
}


def plan(name: str, days: int, db_type: str = "mysql") -> InstancePlan:
    return InstancePlan(
        name=name,
        db_type=db_type,
        days=days,
        databases=[
            DatabasePlan("sales", 5 * GIB, 20 * MIB),
            DatabasePlan("logs", GIB, 2 * MIB),
            DatabasePlan("scratch", 100 * MIB, 0),
            DatabasePlan("old", 2 * GIB, MIB, dropped_days_ago=5),
            DatabasePlan("young", 10 * MIB, MIB, born_days_ago=10),
        ],
    )


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def url(name: str, instance) -> str:
    today = timezone.localdate()
    return PINNED[name][0].format(
        pk=instance.pk,
        today=today.isoformat(),
        week_ago=(today - timedelta(days=7)).isoformat(),
        year_ago=(today - timedelta(days=365)).isoformat(),
    )


def queries_of(client, path: str) -> int:
    assert client.get(path).status_code == 200, path  # warm-up: caches, a first aggregation
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", list(PINNED))
def test_query_count_is_pinned_and_independent_of_the_history(admin_client, name):
    short = write_history(plan("short", 40))
    few = queries_of(admin_client, url(name, short))
    long = write_history(plan("long", 400, "postgresql"))
    many = queries_of(admin_client, url(name, long))
    assert few == many, f"{name}: {few} queries with 40 days, {many} with 400"
    pinned = PINNED[name][1]
    if pinned:
        assert many == pinned, f"{name}: {many} queries, pinned {pinned}"


def newest_rows(instance, *, until=None):
    """{database: newest row} from the history, the slow obvious way."""
    newest = {}
    rows = DatabaseSizeStat.objects.filter(instance=instance)
    if until is not None:
        rows = rows.filter(collected_date__lte=until)
    for row in rows.order_by("collected_date"):
        newest[row.database_name] = row
    return newest


def api_rows(client, path):
    body = client.get(path).json()
    return {r["database_name"]: (r["collected_date"], r["size_bytes"], r["is_deleted"]) for r in body["results"]}


def as_answer(rows: dict) -> dict:
    return {name: (r.collected_date.isoformat(), r.size_bytes, r.is_deleted) for name, r in rows.items()}


def test_latest_only_equals_the_newest_row_of_each_database(admin_client):
    inst = write_history(plan("orders", 60))
    newest = newest_rows(inst)
    live = {name: row for name, row in newest.items() if not row.is_deleted}
    assert set(live) == {"sales", "logs", "scratch", "young"}
    base = f"/api/instances/{inst.pk}/database-sizes/?latest_only=true"
    assert api_rows(admin_client, base) == as_answer(live)
    assert api_rows(admin_client, base + "&include_deleted=true") == as_answer(newest)


def test_latest_only_within_a_range_is_the_newest_row_in_the_range(admin_client):
    inst = write_history(plan("orders", 60))
    until = timezone.localdate() - timedelta(days=20)
    newest = newest_rows(inst, until=until)
    assert "old" in newest and "young" not in newest  # still there then; not born yet
    path = f"/api/instances/{inst.pk}/database-sizes/?latest_only=true&end_date={until.isoformat()}"
    assert api_rows(admin_client, path) == as_answer(newest)


def test_latest_only_when_every_database_is_newest_on_the_same_day(admin_client):
    # No database vanished: every one is newest on the last collection day, read without naming them.
    inst = write_history(
        InstancePlan(
            name="steady",
            db_type="mysql",
            days=40,
            databases=[DatabasePlan("sales", 5 * GIB, 20 * MIB), DatabasePlan("logs", GIB, 2 * MIB)],
        )
    )
    other = write_history(plan("orders", 40))  # same day, other instance: none of its rows may show
    base = f"/api/instances/{inst.pk}/database-sizes/?latest_only=true"
    assert api_rows(admin_client, base) == as_answer(newest_rows(inst))
    assert api_rows(admin_client, base + "&include_deleted=true") == as_answer(newest_rows(inst))
    assert api_rows(admin_client, base + "&search=sal") == as_answer({"sales": newest_rows(inst)["sales"]})
    body = admin_client.get(base).json()
    assert body["count"] == 2 and {r["instance"] for r in body["results"]} == {inst.pk} != {other.pk}


def test_latest_only_finds_a_database_that_vanished_long_ago(admin_client):
    inst = write_history(
        InstancePlan(
            name="archive",
            db_type="mysql",
            days=120,
            databases=[DatabasePlan("sales", 5 * GIB, 20 * MIB), DatabasePlan("gone", GIB, MIB, dropped_days_ago=60)],
        )
    )
    newest = newest_rows(inst)
    assert newest["gone"].is_deleted and newest["gone"].collected_date < timezone.localdate() - timedelta(days=31)
    base = f"/api/instances/{inst.pk}/database-sizes/?latest_only=true"
    assert api_rows(admin_client, base) == as_answer({"sales": newest["sales"]})
    assert api_rows(admin_client, base + "&include_deleted=true") == as_answer(newest)
    until = timezone.localdate() - timedelta(days=50)
    assert api_rows(admin_client, f"{base}&include_deleted=true&end_date={until}") == as_answer(
        newest_rows(inst, until=until)
    )
    # One more query than when every database has a recent row (the probe over the whole range), no more.
    assert queries_of(admin_client, base + "&include_deleted=true") == PINNED["latest_only"][1] + 1


def test_databases_are_the_rows_of_the_newest_collection(admin_client):
    inst = write_history(plan("orders", 60))
    newest_day = InstanceSizeStat.objects.filter(instance=inst).latest("collected_date").collected_date
    expected = {
        r.database_name: (newest_day.isoformat(), r.size_bytes, False)
        for r in DatabaseSizeStat.objects.filter(instance=inst, collected_date=newest_day, is_deleted=False)
    }
    assert api_rows(admin_client, f"/api/instances/{inst.pk}/databases/") == expected


def test_metrics_give_the_newest_sizes(admin_client):
    inst = write_history(plan("orders", 60))
    text = admin_client.get("/metrics").content.decode()
    sizes = {
        sample.labels["database"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "capacity_database_size_bytes"
        for sample in family.samples
    }
    assert sizes == {name: row.size_bytes for name, row in newest_rows(inst).items() if not row.is_deleted}


def test_growth_comes_from_the_size_on_that_day(db):
    inst = write_history(plan("orders", 60))
    today = timezone.localdate()
    rows = {
        r.database_name: r for r in readmodels.with_database_growth(DatabaseInventory.objects.all(), today, [7, 30])
    }
    for days in (7, 30):
        day = today - timedelta(days=days)
        for name, row in rows.items():
            then = DatabaseSizeStat.objects.filter(instance=inst, database_name=name, collected_date=day).first()
            assert getattr(row, f"size_{days}d_ago") == (then.size_bytes if then else None), (name, days)
            if then is not None:
                assert getattr(row, f"growth_{days}d_bytes") == row.last_size_bytes - then.size_bytes
    assert rows["young"].growth_30d_bytes is None  # born 10 days ago: no size 30 days back


def test_fastest_growing_databases_rank_the_30_day_growth(db):
    inst = write_history(plan("orders", 60))
    today = timezone.localdate()
    top = readmodels.fastest_growing_databases(today, 30, 2)
    names = DatabaseInventory.objects.in_bulk(list(top))
    assert [names[pk].database_name for pk in top] == ["sales", "logs"]
    sales = DatabaseInventory.objects.get(instance=inst, database_name="sales")
    then = DatabaseSizeStat.objects.get(instance=inst, database_name="sales", collected_date=today - timedelta(days=30))
    assert top[sales.pk] == sales.last_size_bytes - then.size_bytes


def test_stats_count_exactly_while_small_and_estimate_beyond(admin_client, monkeypatch):
    write_history(plan("orders", 60))
    body = admin_client.get("/api/capacity/stats/").json()
    rows = DatabaseSizeStat.objects.count()
    assert body["total_records"] == rows and body["total_records_exact"] is True
    assert body["last_collection_at"] is not None
    monkeypatch.setattr(readmodels, "EXACT_COUNT_LIMIT", 50)
    body = admin_client.get("/api/capacity/stats/").json()
    assert body["total_records_exact"] is False
    assert body["total_records"] >= 51


@pytest.mark.parametrize("model", [DatabaseSizeStat, InstanceSizeStat], ids=["partitioned", "plain table"])
def test_whole_table_count_past_the_limit_is_the_catalogs_estimate(db, monkeypatch, model):
    """PostgreSQL's catalog gives the estimate, for the monthly partitions of the daily rows as for a plain
    table (the instance totals, the aggregates); on SQLite, which has none, it is the id range."""
    write_history(plan("orders", 60))
    rows = model.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    monkeypatch.setattr(readmodels, "EXACT_COUNT_LIMIT", rows - 1)  # counted up to the limit, then estimated
    count, exact = readmodels.estimated_count(model.objects.all())
    assert (count, exact) == (rows, False)
    monkeypatch.setattr(readmodels, "EXACT_COUNT_LIMIT", 5)  # far past it: the estimate alone, no count
    count, exact = readmodels.estimated_count(model.objects.all())
    assert not exact and abs(count - rows) <= rows // 10
    monkeypatch.setattr(readmodels, "EXACT_COUNT_LIMIT", rows)
    assert readmodels.estimated_count(model.objects.all()) == (rows, True)


def test_estimated_count_of_a_filtered_list_past_the_limit(db, monkeypatch):
    inst = write_history(plan("orders", 60))
    monkeypatch.setattr(readmodels, "EXACT_COUNT_LIMIT", 20)
    count, exact = readmodels.estimated_count(DatabaseSizeStat.objects.filter(instance=inst, database_name="sales"))
    assert count >= 21
    if connection.vendor == "sqlite":  # no estimate there: exact
        assert (count, exact) == (60, True)
    count, exact = readmodels.estimated_count(DatabaseSizeStat.objects.filter(database_name="nothing"))
    assert (count, exact) == (0, True)


def test_the_database_sizes_admin_list_neither_counts_everything_nor_builds_a_date_hierarchy(admin_client):
    write_history(plan("orders", 60))
    admin_client.get("/admin/capacity/databasesizestat/")
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get("/admin/capacity/databasesizestat/")
    assert response.status_code == 200
    history = [q["sql"] for q in ctx.captured_queries if "capacity_databasesizestat" in q["sql"]]
    assert not any("DISTINCT" in sql.upper() for sql in history), history  # the date hierarchy's years
    # The one count there is bounded by a LIMIT: exact while small, an estimate past it.
    counts = [sql for sql in history if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts
