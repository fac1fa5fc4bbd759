"""/api/alert-rules/ and /api/alerts/: CRUD, filters, permissions, bad input, schema."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from alerting.choices import AlertKind, AlertStatus
from alerting.filtersets import AlertFilterSet, AlertRuleFilterSet
from alerting.models import Alert, AlertRule
from alerting.services import evaluate
from tests.api.conftest import results

from .conftest import END, GiB, MiB, add_collection

pytestmark = pytest.mark.django_db

RULES = "/api/alert-rules/"
ALERTS = "/api/alerts/"


@pytest.fixture
def fleet(make_target, make_rule):
    """Two instances with alerts of three rules: two firing on orders, one resolved and one firing on billing."""
    orders = make_target("orders", db_type="mysql", capacity_limit_bytes=5 * GiB)
    billing = make_target("billing", db_type="postgresql")
    add_collection(orders, END, {"sales": 3 * GiB, "logs": 2 * GiB})
    add_collection(billing, END, {"ledger": 4 * GiB})
    total = make_rule("total", AlertKind.TOTAL_SIZE, threshold_bytes=3 * GiB)
    database = make_rule("database", AlertKind.DATABASE_SIZE, threshold_bytes=3 * GiB, instance=orders)
    evaluate()
    add_collection(billing, END + timedelta(days=1), {"ledger": GiB})
    evaluate()
    return {"orders": orders, "billing": billing, "total": total, "database": database}


# --- alert rules: CRUD --------------------------------------------------------------------------


def test_create_read_change_and_delete_a_rule(admin, make_target):
    orders = make_target("orders", capacity_limit_bytes=10 * GiB)
    response = admin.post(
        RULES,
        {
            "name": "orders full soon",
            "kind": "days_until_full",
            "instance": orders.pk,
            "threshold_days": 30,
            "window_days": 14,
            "webhook_url": "https://hooks.example.com/capacity",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "orders full soon",
        "kind": "days_until_full",
        "instance": orders.pk,
        "instance_name": "orders",
        "db_type": "",
        "threshold_bytes": None,
        "threshold_mb": None,
        "threshold_percent": None,
        "threshold_days": 30,
        "window_days": 14,
        "unit": "days",
        "include_system_databases": False,
        "webhook_url": "https://hooks.example.com/capacity",
        "webhook_status": "ok",
        "is_active": True,
        "firing_count": 0,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    url = f"{RULES}{body['id']}/"
    assert admin.get(url).json() == body

    # Switching the kind needs that kind's threshold and drops the old one.
    response = admin.patch(url, {"kind": "growth_percent"}, format="json")
    assert response.status_code == 400 and "threshold_percent" in response.json()
    response = admin.patch(url, {"kind": "growth_percent", "threshold_percent": 12.5}, format="json")
    assert response.status_code == 200, response.content
    changed = response.json()
    assert (changed["threshold_percent"], changed["threshold_days"], changed["unit"]) == (12.5, None, "percent")
    assert AlertRule.objects.get().threshold_days is None

    assert admin.delete(url).status_code == 204
    assert not AlertRule.objects.exists()


def test_a_fleet_wide_rule_and_the_list(admin, fleet):
    response = admin.post(RULES, {"name": "any big", "kind": "total_size", "threshold_bytes": 10 * GiB}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["instance"] is None and response.json()["threshold_mb"] == 10240.0
    rows = results(admin.get(RULES))
    assert [r["name"] for r in rows] == ["any big", "database", "total"]
    assert {r["name"]: r["firing_count"] for r in rows} == {"any big": 0, "database": 1, "total": 1}


def test_deleting_a_rule_deletes_its_alerts(admin, fleet):
    assert Alert.objects.filter(rule=fleet["total"]).count() == 2
    assert admin.delete(f"{RULES}{fleet['total'].pk}/").status_code == 204
    assert not Alert.objects.filter(rule_id=fleet["total"].pk).exists()


def test_the_rule_list_costs_the_same_whatever_its_length(admin, make_target, make_rule, django_assert_num_queries):
    for n in range(3):
        make_rule(f"r{n}", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, instance=make_target(f"i{n}"))
    with django_assert_num_queries(4):  # session, user, count, page
        admin.get(RULES)
    for n in range(3, 12):
        make_rule(f"r{n}", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, instance=make_target(f"i{n}"))
    with django_assert_num_queries(4):
        admin.get(RULES)


# --- alert rules: validation --------------------------------------------------------------------

BASE = {"name": "r", "kind": "total_size", "threshold_bytes": GiB}
BAD_RULES = [
    ({}, ["name", "kind"]),
    ({**BASE, "kind": "cpu"}, ["kind"]),
    ({"name": "r", "kind": "total_size"}, ["threshold_bytes"]),
    ({"name": "r", "kind": "database_size", "threshold_percent": 5}, ["threshold_bytes"]),
    ({"name": "r", "kind": "growth_percent", "threshold_bytes": GiB}, ["threshold_percent"]),
    ({"name": "r", "kind": "days_until_full", "threshold_percent": 5}, ["threshold_days"]),
    ({**BASE, "threshold_bytes": 0}, ["threshold_bytes"]),
    ({**BASE, "threshold_bytes": "lots"}, ["threshold_bytes"]),
    ({**BASE, "threshold_bytes": 10**30}, ["threshold_bytes"]),
    ({"name": "r", "kind": "growth_percent", "threshold_percent": -5}, ["threshold_percent"]),
    ({"name": "r", "kind": "growth_percent", "threshold_percent": "1.234"}, ["threshold_percent"]),
    ({"name": "r", "kind": "days_until_full", "threshold_days": -1}, ["threshold_days"]),
    ({**BASE, "window_days": 0}, ["window_days"]),
    ({**BASE, "window_days": 366}, ["window_days"]),
    ({**BASE, "window_days": None}, ["window_days"]),
    ({"name": "r", "kind": "days_until_full", "threshold_days": 30, "window_days": 3}, ["window_days"]),
    ({**BASE, "webhook_url": "ftp://hooks.example.com/x"}, ["webhook_url"]),
    ({**BASE, "webhook_url": "file:///etc/passwd"}, ["webhook_url"]),
    ({**BASE, "webhook_url": "javascript:alert(1)"}, ["webhook_url"]),
    ({**BASE, "webhook_url": "not a url"}, ["webhook_url"]),
    ({**BASE, "webhook_url": "https://" + "h" * 600 + ".example.com/"}, ["webhook_url"]),
    ({**BASE, "instance": 999999}, ["instance"]),
    ({**BASE, "instance": "orders"}, ["instance"]),
    ({**BASE, "db_type": "db2"}, ["db_type"]),
    ({**BASE, "name": "taken"}, ["name"]),
    ({**BASE, "name": "n" * 200}, ["name"]),
    ({**BASE, "is_active": "sometimes"}, ["is_active"]),
]


@pytest.mark.parametrize("body, fields", BAD_RULES, ids=[str(i) for i in range(len(BAD_RULES))])
def test_bad_rules_are_refused_naming_the_field(admin, make_rule, body, fields):
    make_rule("taken", AlertKind.TOTAL_SIZE, threshold_bytes=1)
    response = admin.post(RULES, body, format="json")
    assert response.status_code == 400, response.content
    assert set(fields) <= set(response.json()), response.json()
    assert AlertRule.objects.count() == 1


def test_rules_that_do_not_fit_their_instance_are_refused(admin, make_target):
    maria = make_target("maria", db_type="mysql")
    response = admin.post(
        RULES,
        {"name": "r", "kind": "days_until_full", "threshold_days": 30, "instance": maria.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "capacity limit" in response.json()["instance"][0]
    response = admin.post(RULES, {**BASE, "instance": maria.pk, "db_type": "oracle"}, format="json")
    assert response.status_code == 400
    assert "maria" in response.json()["db_type"][0]


def test_a_patch_is_checked_against_the_stored_rule(admin, make_rule):
    rule = make_rule("growth", AlertKind.GROWTH_PERCENT, threshold_percent=Decimal("10"))
    response = admin.patch(f"{RULES}{rule.pk}/", {"threshold_percent": None}, format="json")
    assert response.status_code == 400 and "threshold_percent" in response.json()
    response = admin.patch(f"{RULES}{rule.pk}/", {"webhook_url": "ftp://x.example.com/"}, format="json")
    assert response.status_code == 400 and "webhook_url" in response.json()
    response = admin.patch(f"{RULES}{rule.pk}/", {"window_days": 90, "webhook_url": ""}, format="json")
    assert response.status_code == 200 and response.json()["window_days"] == 90


# --- alerts ---------------------------------------------------------------------------------------


def test_alerts_list_and_detail(viewer, fleet):
    rows = results(viewer.get(ALERTS))
    assert len(rows) == 3
    firing = results(viewer.get(ALERTS + "?status=firing"))
    assert sorted((r["rule_name"], r["instance_name"], r["database_name"]) for r in firing) == [
        ("database", "orders", "sales"),
        ("total", "orders", ""),
    ]
    alert = Alert.objects.get(rule=fleet["database"])
    body = viewer.get(f"{ALERTS}{alert.pk}/").json()
    assert body == {
        "id": alert.pk,
        "rule": fleet["database"].pk,
        "rule_name": "database",
        "kind": "database_size",
        "instance": fleet["orders"].pk,
        "instance_name": "orders",
        "db_type": "mysql",
        "database_name": "sales",
        "status": "firing",
        "value": 3 * GiB,
        "threshold": 3 * GiB,
        "unit": "bytes",
        "message": alert.message,
        "first_fired_at": body["first_fired_at"],
        "last_evaluated_at": body["last_evaluated_at"],
        "resolved_at": None,
        "webhook_status": None,
        "webhook_error": "",
        "webhook_delivered_at": None,
    }
    assert isinstance(body["value"], int)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=firing", {("total", "orders"), ("database", "orders")}),
        ("status=resolved", {("total", "billing")}),
        ("status=firing&status=resolved", {("total", "orders"), ("database", "orders"), ("total", "billing")}),
        ("rule={database}", {("database", "orders")}),
        ("rule_id={total}", {("total", "orders"), ("total", "billing")}),
        ("rule_name=total", {("total", "orders"), ("total", "billing")}),
        ("instance_id={billing}", {("total", "billing")}),
        ("instance=orders", {("total", "orders"), ("database", "orders")}),
        ("kind=database_size", {("database", "orders")}),
        ("kind=total_size&status=firing", {("total", "orders")}),
        ("kind=growth_percent", set()),
        ("db_type=postgresql", {("total", "billing")}),
        ("database_name=sales", {("database", "orders")}),
        ("start_date=2000-01-01", {("total", "orders"), ("database", "orders"), ("total", "billing")}),
        ("end_date=2000-01-01", set()),
        ("webhook_failed=false", {("total", "orders"), ("database", "orders"), ("total", "billing")}),
    ],
)
def test_alert_filters(viewer, fleet, query, expected):
    ids = {key: fleet[key].pk for key in ("orders", "billing", "total", "database")}
    response = viewer.get(f"{ALERTS}?{query.format(**ids)}")
    assert response.status_code == 200, response.content
    assert {(r["rule_name"], r["instance_name"]) for r in results(response)} == expected


def test_alerts_are_paginated(viewer, fleet):
    body = viewer.get(ALERTS + "?page_size=1&page=2").json()
    assert body["count"] == 3 and len(body["results"]) == 1 and body["next"] and body["previous"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=total_size", ["total"]),
        ("instance_id={orders}", ["database"]),
        ("instance=orders", ["database"]),
        ("fleet_wide=true", ["total"]),
        ("is_active=true", ["database", "total"]),
        ("has_webhook=true", []),
        ("q=data", ["database"]),
        ("name=TOTAL", ["total"]),
        ("threshold_bytes=3221225472", ["database", "total"]),
    ],
)
def test_rule_filters(viewer, fleet, query, expected):
    response = viewer.get(f"{RULES}?{query.format(orders=fleet['orders'].pk)}")
    assert response.status_code == 200, response.content
    assert [r["name"] for r in results(response)] == expected


BAD_QUERIES = [
    ("get", ALERTS + "?status=exploded", ["status"], 400),
    ("get", ALERTS + "?rule=abc", ["rule"], 400),
    ("get", ALERTS + "?rule=999999", ["rule"], 400),
    ("get", ALERTS + "?instance_id=99999999999999999999999", ["instance_id"], 400),
    ("get", ALERTS + "?kind=cpu", ["kind"], 400),
    ("get", ALERTS + "?start_date=yesterday", ["start_date"], 400),
    ("get", ALERTS + "?start_date=2025-02-01&end_date=2025-01-01", ["end_date"], 400),
    ("get", ALERTS + "?webhook_failed=maybe", ["webhook_failed"], 400),
    ("get", ALERTS + "?page=9999", ["page"], 404),
    ("get", RULES + "?kind=cpu", ["kind"], 400),
    ("get", RULES + "?is_active=perhaps", ["is_active"], 400),
    ("get", RULES + "?window_days=week", ["window_days"], 400),
    ("get", RULES + "999999/", ["999999"], 404),
    ("get", RULES + "abc/", ["abc"], 404),
    ("get", RULES + "99999999999999999999999/", ["99999999999999999999999"], 404),
    ("patch", RULES + "999999/", ["999999"], 404),
    ("delete", RULES + "1.5/", ["1.5"], 404),
    ("get", ALERTS + "999999/", ["999999"], 404),
    ("get", ALERTS + "x.y/", ["x.y"], 404),
    ("post", ALERTS, ["post"], 405),
    ("patch", ALERTS + "{alert}/", ["patch"], 405),
    ("delete", ALERTS + "{alert}/", ["delete"], 405),
]


@pytest.mark.parametrize("method, path, words, expected", BAD_QUERIES, ids=[f"{m} {p}" for m, p, *_ in BAD_QUERIES])
def test_bad_input_is_a_4xx_that_names_the_problem(admin, fleet, method, path, words, expected):
    alert = Alert.objects.first()
    response = getattr(admin, method)(path.format(alert=alert.pk), {}, format="json")
    assert response.status_code == expected, response.content
    text = response.content.decode().lower()
    assert response["Content-Type"].startswith("application/json")
    for word in words:
        assert word.lower() in text, text


# --- permissions --------------------------------------------------------------------------------

ROLES = ["anonymous", "nobody", "viewer", "operator", "superuser"]
READ = {"anonymous": 401, "nobody": 403, "viewer": 200, "operator": 200, "superuser": 200}
WRITE_ONLY_ADMIN = {"anonymous": 401, "nobody": 403, "viewer": 403, "operator": 403}
MATRIX = [
    ("get", RULES, None, READ),
    ("get", RULES + "{rule}/", None, READ),
    ("get", ALERTS, None, READ),
    ("get", ALERTS + "{alert}/", None, READ),
    (
        "post",
        RULES,
        {"name": "new", "kind": "total_size", "threshold_bytes": 1},
        {**WRITE_ONLY_ADMIN, "superuser": 201},
    ),
    ("patch", RULES + "{rule}/", {"threshold_bytes": 2}, {**WRITE_ONLY_ADMIN, "superuser": 200}),
    ("delete", RULES + "{rule}/", None, {**WRITE_ONLY_ADMIN, "superuser": 204}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, body, expected", MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_permission_matrix(client_for, fleet, role, method, path, body, expected):
    ids = {"rule": fleet["total"].pk, "alert": Alert.objects.first().pk}
    kwargs = {"data": body, "format": "json"} if body is not None else {}
    response = getattr(client_for(role), method)(path.format(**ids), **kwargs)
    assert response.status_code == expected[role], response.content[:300]
    if response.status_code in (401, 403):
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "codename, method, path, body, expected",
    [
        ("view_alertrule", "get", ALERTS, None, 403),
        ("view_alert", "get", RULES, None, 403),
        ("view_alert", "get", ALERTS, None, 200),
        ("add_alertrule", "post", RULES, {"name": "n", "kind": "total_size", "threshold_bytes": 1}, 201),
        ("add_alertrule", "patch", RULES + "{rule}/", {"threshold_bytes": 5}, 403),
        ("change_alertrule", "patch", RULES + "{rule}/", {"threshold_bytes": 5}, 200),
        ("change_alertrule", "delete", RULES + "{rule}/", None, 403),
        ("delete_alertrule", "delete", RULES + "{rule}/", None, 204),
    ],
)
def test_each_action_needs_its_own_permission(client_for, users, fleet, codename, method, path, body, expected):
    user = users["nobody"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="alerting", codename=codename))
    kwargs = {"data": body, "format": "json"} if body is not None else {}
    response = getattr(client_for("nobody"), method)(path.format(rule=fleet["total"].pk), **kwargs)
    assert response.status_code == expected, response.content[:300]


# --- schema and filtersets ----------------------------------------------------------------------


def test_schema_has_the_alert_paths(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/alert-rules/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/alert-rules/{id}/"])
    assert set(paths["/api/alerts/"]) == {"get"} and set(paths["/api/alerts/{id}/"]) == {"get"}
    rule = schema["components"]["schemas"]["AlertRule"]["properties"]
    assert rule["threshold_percent"]["type"] == "number" and rule["firing_count"]["readOnly"]
    alert = schema["components"]["schemas"]["Alert"]["properties"]
    assert alert["value"]["type"] == "number"


NOT_FILTERED = {
    "message",
    "value",
    "threshold",
    "webhook_url",
    "webhook_status",
    "webhook_error",
    "webhook_delivered_at",
    "first_fired_at",
    "last_evaluated_at",
    "resolved_at",
    "created_at",
    "updated_at",
}


@pytest.mark.parametrize("filterset", [AlertRuleFilterSet, AlertFilterSet], ids=lambda f: f.__name__)
def test_every_model_field_has_a_filter(filterset):
    filters = set(filterset.base_filters)
    for field in filterset._meta.model._meta.get_fields():
        if (field.auto_created and not field.concrete) or field.name in NOT_FILTERED or field.name == "id":
            continue
        if field.is_relation:
            assert f"{field.name}_id" in filters and field.name in filters, field.name
        else:
            assert field.name in filters, field.name


def test_a_rule_with_a_limitless_instance_stays_quiet(admin, make_target, make_rule):
    inst = make_target("no limit")
    add_collection(inst, END, {"a": MiB})
    make_rule("full", AlertKind.DAYS_UNTIL_FULL, threshold_days=10000)
    assert evaluate().fired == [] and results(admin.get(ALERTS + f"?status={AlertStatus.FIRING}")) == []


def test_only_those_who_may_change_rules_see_the_whole_webhook_url(client_for, make_rule):
    secret = "https://user:pw@hooks.example.com:8443/services/T000/B000/s3cr3t?token=abc"
    rule = make_rule("loud", AlertKind.TOTAL_SIZE, threshold_bytes=1, webhook_url=secret)
    for role in ("viewer", "operator"):
        body = client_for(role).get(f"{RULES}{rule.pk}/").json()
        assert body["webhook_url"] == "https://hooks.example.com:8443/…", role
        assert "s3cr3t" not in client_for(role).get(RULES).content.decode()
    assert client_for("superuser").get(f"{RULES}{rule.pk}/").json()["webhook_url"] == secret
