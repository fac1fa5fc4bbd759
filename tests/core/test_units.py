"""Sizes typed and shown with units: common.units, and the form and API fields built on it."""

import random

import pytest

from common.units import MAX_BYTES, SizeError, format_size, parse_size

KiB, MiB, GiB, TiB, PiB = (2**10 * 1024**k for k in range(5))

PARSED = [
    ("52428800", 52428800),
    ("0", 0),
    ("50 GiB", 50 * GiB),
    ("50GiB", 50 * GiB),
    ("  50   gib ", 50 * GiB),
    ("50 GIB", 50 * GiB),
    ("500 GB", 500 * 10**9),
    ("500 gb", 500 * 10**9),
    ("1.5 TiB", 3 * TiB // 2),
    ("1.5 TB", 1_500_000_000_000),
    ("2 KiB", 2048),
    ("2 KB", 2000),
    ("2 kb", 2000),
    ("3 MiB", 3 * MiB),
    ("3 MB", 3_000_000),
    ("1 PiB", PiB),
    ("1 PB", 10**15),
    ("7 B", 7),
    ("7 bytes", 7),
    (".5 KiB", 512),
    ("1. MiB", MiB),
    ("+4 MiB", 4 * MiB),
    (str(MAX_BYTES), MAX_BYTES),
    (52428800, 52428800),
    (1024.0, 1024),
]

REFUSED = [
    ("-5 GiB", "cannot be negative"),
    ("-1", "cannot be negative"),
    (-1, "cannot be negative"),
    ("1.5 B", "whole number of bytes"),
    ("0.1 KiB", "102.4 bytes"),
    ("1.33 GiB", "whole number of bytes"),
    (1.5, "whole number of bytes"),
    ("50 XB", '"XB" is not a size unit'),
    ("50 G", '"G" is not a size unit'),
    ("50 GiBs", "is not a size unit"),
    ("fifty GiB", "is not a size"),
    ("50 Gi B", "is not a size"),
    ("1e9", "is not a size"),
    ("1,5 GiB", "is not a size"),
    ("0x10", "is not a size"),
    ("", "Enter a size"),
    ("   ", "Enter a size"),
    (None, "Enter a size"),
    (True, "Enter a size"),
    (float("nan"), "Enter a size"),
    (float("inf"), "Enter a size"),
    ("8 EiB", "is not a size unit"),
    ("8192 PiB", "more than the largest size"),
    (str(MAX_BYTES + 1), "more than the largest size"),
    (MAX_BYTES + 1, "more than the largest size"),
    ("9" * 400, "more than the largest size"),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[repr(t) for t, _ in PARSED])
def test_parse(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=[repr(t) for t, _ in REFUSED])
def test_refused_with_a_clear_message(text, reason):
    with pytest.raises(SizeError, match=reason.replace(".", r"\.")):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (50 * GiB, "50 GiB"),
        (3 * TiB // 2, "1.5 TiB"),
        (round(14.2 * MiB), "14.2 MiB"),
        (round(13.600000000000001 * MiB), "13.6 MiB"),
        (123456789, "117.7 MiB"),
        (TiB - 1, "1 TiB"),  # 1023.99… GiB rounds up into the next unit
        (-3 * MiB, "-3 MiB"),
        (MAX_BYTES, "8192 PiB"),
    ],
)
def test_format_for_people(size, shown):
    assert format_size(size) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (50 * GiB, "50 GiB"),
        (500 * 10**9, "500 GB"),
        (3 * TiB // 2, "1.5 TiB"),
        (52428800, "50 MiB"),
        (1000, "1000"),
        (123456789, "123456789"),
        (1, "1"),
        (0, "0"),
    ],
)
def test_exact_format_reads_back(size, shown):
    assert format_size(size, exact=True) == shown
    assert parse_size(shown) == size


def test_exact_format_round_trips_any_size():
    """Property-style: a few thousand sizes of every magnitude read back to the same bytes."""
    rng = random.Random(12)
    sizes = [rng.randrange(0, 2 ** rng.randrange(1, 63)) for _ in range(3000)]
    sizes += [rng.randrange(1, 10_000) * factor for factor in (KiB, MiB, GiB, TiB, 10**9, 10**12) for _ in range(50)]
    for size in sizes:
        text = format_size(size, exact=True)
        assert parse_size(text) == size, text
        assert len(text) <= len(str(size)), text  # never longer than the bare number
    for size in sizes:
        shown = format_size(size)
        number = shown.split()[0]
        assert len(number.partition(".")[2]) <= 1, shown  # at most one decimal: no float noise


# --- the admin form ---------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged(admin_client):
    return admin_client


def _instance_form(**extra):
    return {"name": "orders", "db_type": "mysql", "host": "db1", "port": "", "options": "{}", **extra}


@pytest.mark.django_db
def test_admin_form_takes_a_unit_and_shows_the_limit_with_one(admin_client):
    from instances.models import Instance

    response = admin_client.post(
        "/admin/instances/instance/add/",
        _instance_form(capacity_limit_bytes="50 GiB", is_active="on", description=""),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    instance = Instance.objects.get(name="orders")
    assert instance.capacity_limit_bytes == 50 * GiB

    page = admin_client.get(f"/admin/instances/instance/{instance.pk}/change/").content.decode()
    assert 'value="50 GiB"' in page

    response = admin_client.post(
        f"/admin/instances/instance/{instance.pk}/change/",
        _instance_form(capacity_limit_bytes="-5 GiB", is_active="on", description=""),
    )
    assert response.status_code == 200
    assert "A size cannot be negative (-5 GiB)." in response.content.decode()
    instance.refresh_from_db()
    assert instance.capacity_limit_bytes == 50 * GiB

    response = admin_client.post(
        f"/admin/instances/instance/{instance.pk}/change/",
        _instance_form(capacity_limit_bytes="", is_active="on", description=""),
    )
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.capacity_limit_bytes is None


@pytest.mark.django_db
def test_admin_alert_rule_threshold_takes_a_unit(admin_client):
    from alerting.models import AlertRule

    response = admin_client.post(
        "/admin/alerting/alertrule/add/",
        {"name": "big", "kind": "total_size", "is_active": "on", "threshold_bytes": "500 GB", "window_days": "7"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = AlertRule.objects.get(name="big")
    assert rule.threshold_bytes == 500 * 10**9
    page = admin_client.get(f"/admin/alerting/alertrule/{rule.pk}/change/").content.decode()
    assert 'value="500 GB"' in page


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_takes_a_string_with_a_unit_and_answers_bytes(admin_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(admin_user)
    created = client.post(
        "/api/instances/",
        {"name": "orders", "db_type": "mysql", "host": "db1", "capacity_limit_bytes": "1.5 TiB"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["capacity_limit_bytes"] == 3 * TiB // 2
    url = f"/api/instances/{created.json()['id']}/"

    for sent, stored in [(52428800, 52428800), ("500 GB", 500 * 10**9), ("50GiB", 50 * GiB), (None, None)]:
        answer = client.patch(url, {"capacity_limit_bytes": sent}, format="json")
        assert answer.status_code == 200, answer.json()
        assert answer.json()["capacity_limit_bytes"] == stored

    for sent, reason in [
        ("-5 GiB", "cannot be negative"),
        ("1.5 B", "whole number of bytes"),
        ("lots", "is not a size"),
        ("50 XB", "is not a size unit"),
        (10**30, "more than the largest size"),
        (0, "greater than or equal to 1"),
        ("0 GiB", "greater than or equal to 1"),
        (True, "Enter a size"),
    ]:
        answer = client.patch(url, {"capacity_limit_bytes": sent}, format="json")
        assert answer.status_code == 400, (sent, answer.content)
        assert reason in str(answer.json()["capacity_limit_bytes"]), answer.json()


@pytest.mark.django_db
def test_api_alert_rule_threshold_takes_a_unit(admin_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(admin_user)
    created = client.post(
        "/api/alert-rules/", {"name": "big", "kind": "total_size", "threshold_bytes": "2 TiB"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["threshold_bytes"] == 2 * TiB


@pytest.mark.django_db
def test_schema_says_requests_may_carry_a_unit_and_answers_are_integers(admin_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(admin_user)
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    answer = schema["Instance"]["properties"]["capacity_limit_bytes"]
    assert answer["type"] == "integer" and answer.get("nullable") is True
    request = schema["InstanceRequest"]["properties"]["capacity_limit_bytes"]
    assert {s["type"] for s in request["oneOf"]} == {"integer", "string"} and request.get("nullable") is True
