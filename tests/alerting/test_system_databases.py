"""The system-database policy (README "System databases"): the instance total stays whole, a
user-databases figure stands beside it everywhere, rows say which databases are the engine's own,
and database_size rules watch system databases only when they opt in."""

import pytest
from django.urls import reverse

from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert
from alerting.services import evaluate
from instances.engines import DatabaseSize

from .conftest import END, GiB, MiB, add_collection

pytestmark = pytest.mark.django_db


def system(name: str, size: int) -> DatabaseSize:
    return DatabaseSize(name=name, size_bytes=size, data_size_bytes=size, is_system=True)


@pytest.fixture
def orders(make_target):
    instance = make_target("orders", db_type="mysql")
    add_collection(
        instance,
        END,
        {
            "sales": 3 * GiB,
            "logs": GiB,
            "information_schema": system("information_schema", 2 * GiB),
            "mysql": system("mysql", 5 * MiB),
        },
    )
    return instance


def test_the_save_writes_the_user_figures_beside_the_whole_total(orders):
    stat = orders.size_stats.get()
    assert (stat.total_size_bytes, stat.database_count) == (6 * GiB + 5 * MiB, 4)
    assert (stat.user_total_size_bytes, stat.user_database_count) == (4 * GiB, 2)


def test_the_api_gives_both_figures_and_flags_system_rows(viewer, orders):
    detail = viewer.get(f"/api/instances/{orders.pk}/").json()
    assert detail["latest_total_size_bytes"] == 6 * GiB + 5 * MiB
    assert detail["latest_user_total_size_bytes"] == 4 * GiB
    assert detail["latest_user_total_size_mb"] == 4096.0
    assert detail["latest_user_database_count"] == 2

    total = viewer.get(f"/api/instances/{orders.pk}/database-sizes/total/").json()
    assert (total["total_size_bytes"], total["database_count"]) == (6 * GiB + 5 * MiB, 4)
    assert (total["user_total_size_bytes"], total["user_database_count"]) == (4 * GiB, 2)

    row = viewer.get("/api/instances/total-sizes/").json()["results"][0]
    assert (row["user_total_size_bytes"], row["user_database_count"]) == (4 * GiB, 2)

    for path in (f"/api/instances/{orders.pk}/databases/", f"/api/instances/{orders.pk}/database-sizes/"):
        rows = viewer.get(path).json()["results"]
        assert {r["database_name"]: r["is_system"] for r in rows} == {
            "information_schema": True,
            "logs": False,
            "mysql": True,
            "sales": False,
        }


def test_metrics_add_the_user_series(client, orders):
    text = client.get("/metrics").content.decode()
    assert 'capacity_instance_size_bytes{db_type="mysql",instance="orders"} 6.447693824e+09' in text
    assert 'capacity_instance_user_size_bytes{db_type="mysql",instance="orders"} 4.294967296e+09' in text


def test_the_dashboard_shows_the_user_figures(admin_client, orders):
    page = admin_client.get(reverse("admin:capacity_dashboard")).content.decode()
    assert "4.00 GiB in user databases" in page
    assert "2 of them user databases" in page


def test_database_size_rules_skip_system_databases_unless_they_opt_in(make_target, make_rule, orders):
    users_only = make_rule("big database", AlertKind.DATABASE_SIZE, threshold_bytes=GiB)
    everything = make_rule(
        "big database, system too", AlertKind.DATABASE_SIZE, threshold_bytes=GiB, include_system_databases=True
    )
    evaluate()
    firing = Alert.objects.filter(status=AlertStatus.FIRING)
    assert sorted(firing.filter(rule=users_only).values_list("database_name", flat=True)) == ["logs", "sales"]
    assert sorted(firing.filter(rule=everything).values_list("database_name", flat=True)) == [
        "information_schema",
        "logs",
        "sales",
    ]
    # Opting out again resolves the system database's alert at the next evaluation.
    everything.include_system_databases = False
    everything.save()
    evaluate()
    assert sorted(firing.filter(rule=everything).values_list("database_name", flat=True)) == ["logs", "sales"]


def test_the_rule_api_takes_the_opt_in(admin, orders):
    response = admin.post(
        "/api/alert-rules/",
        {"name": "sys", "kind": "database_size", "threshold_bytes": "1 GiB", "include_system_databases": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["include_system_databases"] is True
    listed = admin.get("/api/alert-rules/?include_system_databases=false").json()
    assert listed["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_upgrading_derives_the_user_figures_of_the_history(orders):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)

    migrate([("capacity", "0009_partition_table_sizes")])  # the columns are gone
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    stat = orders.size_stats.get()
    assert (stat.user_total_size_bytes, stat.user_database_count) == (4 * GiB, 2)


def test_a_fleet_wide_rule_answers_instance_name_null_also_to_patch(admin):
    created = admin.post(
        "/api/alert-rules/", {"name": "fleet", "kind": "total_size", "threshold_bytes": 1}, format="json"
    ).json()
    assert created["instance_name"] is None
    patched = admin.patch(f"/api/alert-rules/{created['id']}/", {"threshold_bytes": 2}, format="json").json()
    assert "instance_name" in patched and patched["instance_name"] is None


def test_an_instance_without_credential_answers_credential_name_null_also_to_patch(admin, make_target):
    bare = make_target("bare", credential=None)
    patched = admin.patch(f"/api/instances/{bare.pk}/", {"description": "x"}, format="json").json()
    assert "credential_name" in patched and patched["credential_name"] is None
