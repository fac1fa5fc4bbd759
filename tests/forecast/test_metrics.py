"""GET /metrics: Prometheus text checked against the rows, bearer token, escaping, constant query count."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from capacity.models import DatabaseSizeStat
from instances.models import Instance
from tests.api.conftest import add_collection

from .conftest import MiB

pytestmark = pytest.mark.django_db

SYNCED = datetime(2025, 3, 3, 3, 0, 12, tzinfo=UTC)
FAILED = datetime(2025, 3, 4, 3, 1, 0, tzinfo=UTC)
GiB = 1024 * MiB


@pytest.fixture
def fleet(make_target):
    """Two collected instances on different days, one that failed last, one never collected, one inactive."""
    maria = make_target("maria1")
    add_collection(maria, date(2025, 3, 2), {"sales": 100 * MiB, "old": 10 * MiB, "gone_before": 1})
    add_collection(maria, date(2025, 3, 3), {"sales": 130 * MiB, "订单": 2 * MiB}, deleted={"old": 10 * MiB})
    pg = make_target("pg1", db_type="postgresql", capacity_limit_bytes=GiB)
    add_collection(pg, date(2025, 3, 1), {"app": 7 * MiB, "postgres": 8 * MiB})
    make_target("new-one", db_type="oracle", options={"service_name": "X"})
    retired = make_target("retired", is_active=False)
    add_collection(retired, date(2025, 3, 3), {"legacy": 5 * MiB})
    # The last runs' outcomes, as they were after the history above (pg's last run failed).
    for instance, when, status in (
        (maria, SYNCED, "completed"),
        (pg, FAILED, "failed"),
        (retired, SYNCED, "completed"),
    ):
        type(instance).objects.filter(pk=instance.pk).update(last_sync_at=when, last_sync_status=status)
    return {"maria": maria, "pg": pg, "retired": retired}


def scrape(client, **headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return response.content.decode("utf-8")


def samples(text):
    """{metric name: {frozenset(labels): value}} from the exposition text."""
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            found.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return found


def labels(**pairs):
    return frozenset(pairs.items())


def test_series_match_the_rows(client, fleet):
    found = samples(scrape(client))
    assert found["capacity_database_size_bytes"] == {
        labels(instance="maria1", database="sales", db_type="mysql"): 130 * MiB,
        labels(instance="maria1", database="订单", db_type="mysql"): 2 * MiB,
        labels(instance="pg1", database="app", db_type="postgresql"): 7 * MiB,
        labels(instance="pg1", database="postgres", db_type="postgresql"): 8 * MiB,
    }
    assert found["capacity_instance_size_bytes"] == {
        labels(instance="maria1", db_type="mysql"): 132 * MiB,
        labels(instance="pg1", db_type="postgresql"): 15 * MiB,
    }
    assert found["capacity_instance_capacity_limit_bytes"] == {labels(instance="pg1", db_type="postgresql"): GiB}
    assert found["capacity_last_collection_timestamp_seconds"] == {
        labels(instance="maria1"): SYNCED.timestamp(),
        labels(instance="pg1"): FAILED.timestamp(),
    }
    # The never-collected instance has no last-collection series at all; the inactive one is left out.
    assert found["capacity_last_collection_success"] == {labels(instance="maria1"): 1, labels(instance="pg1"): 0}


def test_database_sizes_add_up_to_the_instance_size(client, fleet):
    found = samples(scrape(client))
    per_instance = {}
    for key, value in found["capacity_database_size_bytes"].items():
        name = dict(key)["instance"]
        per_instance[name] = per_instance.get(name, 0) + value
    assert per_instance == {dict(k)["instance"]: v for k, v in found["capacity_instance_size_bytes"].items()}


def test_help_and_type_lines(client, fleet):
    text = scrape(client)
    for name in (
        "capacity_database_size_bytes",
        "capacity_instance_size_bytes",
        "capacity_last_collection_timestamp_seconds",
        "capacity_last_collection_success",
    ):
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} gauge\n" in text


def test_an_empty_fleet_still_describes_its_metrics(client, db):
    text = scrape(client)
    assert "# TYPE capacity_database_size_bytes gauge" in text
    assert samples(text) == {}


def test_label_values_are_escaped(client, make_target):
    inst = make_target('odd "prod" \\ box')
    add_collection(inst, date(2025, 3, 3), {'we"ird\\name\nline2': 42})
    text = scrape(client)
    assert 'database="we\\"ird\\\\name\\nline2"' in text
    assert 'instance="odd \\"prod\\" \\\\ box"' in text
    series = samples(text)["capacity_database_size_bytes"]
    assert series == {labels(instance='odd "prod" \\ box', database='we"ird\\name\nline2', db_type="mysql"): 42}


def test_open_without_a_token(client, fleet, settings):
    settings.METRICS_TOKEN = ""
    assert "capacity_instance_size_bytes{" in scrape(client)


@override_settings(METRICS_TOKEN="s3cret-metrics")
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", "Bearer s3cret-metricsX", "Token s3cret-metrics", "s3cret-metrics"],
)
def test_a_token_is_wanted_when_set(client, fleet, authorization):
    headers = {} if authorization is None else {"authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.content.decode()
    assert b"capacity_" not in response.content


@override_settings(METRICS_TOKEN="s3cret-metrics")
@pytest.mark.parametrize("authorization", ["Bearer s3cret-metrics", "bearer s3cret-metrics"])
def test_the_right_token_opens_it(client, fleet, authorization):
    assert "capacity_database_size_bytes{" in scrape(client, authorization=authorization)


@override_settings(METRICS_TOKEN="s3cret-metrics")
def test_the_token_is_compared_in_constant_time(client, fleet, monkeypatch):
    import capacity.metrics

    calls = []
    real = capacity.metrics.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(capacity.metrics.hmac, "compare_digest", spy)
    scrape(client, authorization="Bearer s3cret-metrics")
    assert calls == [(b"s3cret-metrics", b"s3cret-metrics")]


def test_reading_only(client, fleet):
    assert client.post("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200


def test_not_cached(client, fleet):
    assert "no-cache" in client.get("/metrics")["Cache-Control"]


@pytest.mark.parametrize("instances", [1, 25])
def test_two_queries_whatever_the_fleet(client, make_target, instances, django_assert_num_queries):
    first = date(2025, 3, 1)
    for n in range(instances):
        inst = make_target(f"inst{n:02}", last_sync_at=SYNCED, last_sync_status="completed")
        # Latest collections spread over a few days, with older history behind them.
        add_collection(inst, first, {f"db{k}": k + 1 for k in range(3)})
        add_collection(inst, first + timedelta(days=1 + n % 4), {f"db{k}": k + 10 for k in range(5)})
    with django_assert_num_queries(2):
        text = scrape(client)
    found = samples(text)
    assert len(found["capacity_database_size_bytes"]) == 5 * instances
    assert set(found["capacity_database_size_bytes"].values()) == {10, 11, 12, 13, 14}
    assert len(found["capacity_last_collection_success"]) == instances


def test_a_recollected_instance_shows_its_newest_day_only(client, fleet):
    DatabaseSizeStat.objects.filter(instance=fleet["pg"]).delete()
    add_collection(fleet["pg"], date(2025, 3, 5), {"app": 9 * MiB})
    Instance.objects.filter(pk=fleet["pg"].pk).update(last_sync_status="completed")
    found = samples(scrape(client))
    pg_databases = {k: v for k, v in found["capacity_database_size_bytes"].items() if ("instance", "pg1") in k}
    assert pg_databases == {labels(instance="pg1", database="app", db_type="postgresql"): 9 * MiB}
    assert found["capacity_last_collection_success"][labels(instance="pg1")] == 1
