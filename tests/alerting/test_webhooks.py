"""Webhooks: every alert that fires or resolves is POSTed as JSON to a real loopback server; failures are recorded."""

import time
from datetime import timedelta

import pytest
from django.test import override_settings

from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert
from alerting.services import evaluate
from alerting.services.webhooks import (
    _NotFollowed,
    deliver_webhook,
    post_json,
    redirect_target,
    webhook_payload,
)
from tests.loopback import closed_port

from .conftest import END, GiB, add_collection, allow_webhooks_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(make_target):
    inst = make_target("orders", db_type="postgresql")
    add_collection(inst, END, {"sales": 3 * GiB})
    return inst


def evaluate_and_deliver(capture):
    """Evaluate and run what waits for the commit (the queueing; django-q2 runs tasks in-process in tests)."""
    with capture(execute=True):
        return evaluate()


def test_fired_and_resolved_alerts_are_posted_as_json(
    orders, make_rule, webhook_server, django_capture_on_commit_callbacks
):
    base, receiver = webhook_server
    rule = make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=2 * GiB, webhook_url=f"{base}/alerts?team=dba")

    (alert,) = evaluate_and_deliver(django_capture_on_commit_callbacks).fired
    assert receiver.wait_for(1)
    (request,) = receiver.requests
    assert request["path"] == "/alerts?team=dba"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = receiver.bodies()[0]
    alert.refresh_from_db()
    assert body == {
        "alert_id": alert.pk,
        "status": "firing",
        "rule_id": rule.pk,
        "rule_name": "big",
        "kind": "total_size",
        "instance_id": orders.pk,
        "instance_name": "orders",
        "db_type": "postgresql",
        "database_name": "",
        "value": 3 * GiB,
        "threshold": 2 * GiB,
        "unit": "bytes",
        "message": alert.message,
        "first_fired_at": alert.first_fired_at.isoformat(),
        "last_evaluated_at": alert.first_fired_at.isoformat(),
        "resolved_at": None,
        "link": f"/admin/instances/instance/{orders.pk}/capacity/",
    }
    assert (alert.webhook_status, alert.webhook_error) == (200, "")
    assert alert.webhook_delivered_at is not None

    # Re-evaluating a firing alert sends nothing; resolving it sends once more.
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    add_collection(orders, END + timedelta(days=1), {"sales": GiB})
    (resolved,) = evaluate_and_deliver(django_capture_on_commit_callbacks).resolved
    assert receiver.wait_for(2)
    body = receiver.bodies()[1]
    resolved.refresh_from_db()
    assert body["alert_id"] == alert.pk and body["status"] == "resolved"
    assert body["resolved_at"] == resolved.resolved_at.isoformat()
    assert resolved.webhook_status == 200 and resolved.webhook_error == ""


def test_rules_without_a_webhook_send_nothing(orders, make_rule, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    make_rule("quiet", AlertKind.TOTAL_SIZE, threshold_bytes=GiB)
    make_rule("loud", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url="https://hooks.example.com/x")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    loud = Alert.objects.get(rule__name="loud")
    assert queued == [("alerting.tasks.deliver_alert_webhook", loud.pk, webhook_payload(loud))]


def test_webhooks_are_queued_only_after_the_commit(orders, make_rule, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    make_rule("loud", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url="https://hooks.example.com/x")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        evaluate()
    assert queued == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(queued) == 1


def test_an_error_answer_is_recorded(orders, make_rule, webhook_server, django_capture_on_commit_callbacks):
    base, receiver = webhook_server
    receiver.status = 500
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url=f"{base}/alerts")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.FIRING
    assert alert.webhook_status == 500 and alert.webhook_error == "HTTP 500: Internal Server Error"
    assert alert.webhook_delivered_at is None


@override_settings(CAPACITY_WEBHOOK_TIMEOUT=0.5)
def test_a_silent_webhook_times_out_and_is_recorded(
    orders, make_rule, webhook_server, django_capture_on_commit_callbacks
):
    base, receiver = webhook_server
    receiver.delay = 10
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url=f"{base}/alerts")
    started = time.monotonic()
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 5
    alert = Alert.objects.get()
    assert alert.webhook_status is None and alert.webhook_error == "No answer within 0.5 seconds."
    assert alert.webhook_delivered_at is None and alert.status == AlertStatus.FIRING


def test_an_unreachable_webhook_is_recorded(orders, make_rule, django_capture_on_commit_callbacks, settings):
    port = closed_port()
    allow_webhooks_to(settings, f"127.0.0.1:{port}")
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url=f"http://127.0.0.1:{port}/x")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.webhook_status is None and alert.webhook_error.startswith("Could not reach the webhook:")


def test_a_broker_outage_is_recorded_and_the_alert_kept(
    orders, make_rule, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", broken)
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url="https://hooks.example.com/x")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.FIRING
    assert alert.webhook_error == "The webhook could not be queued: broker down"


def test_a_redirect_within_http_is_followed_with_the_same_post(
    orders, make_rule, webhook_server, django_capture_on_commit_callbacks
):
    base, receiver = webhook_server
    receiver.location = f"{base}/moved"
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url=f"{base}/hook")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    assert receiver.wait_for(2)
    first, second = receiver.requests
    assert (first["path"], second["path"]) == ("/hook", "/moved")
    assert second["method"] == "POST" and second["body"] == first["body"]
    assert Alert.objects.get().webhook_status == 200


def test_a_redirect_loop_stops(orders, make_rule, webhook_server, django_capture_on_commit_callbacks):
    base, receiver = webhook_server
    receiver.location = f"{base}/hook"
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url=f"{base}/hook")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.webhook_status == 307 and alert.webhook_error.startswith("HTTP 307:")
    assert 2 <= len(receiver.requests) <= 5


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/alerts", "file:///etc/passwd"])
def test_a_redirect_to_another_scheme_is_not_followed(
    orders, make_rule, webhook_server, django_capture_on_commit_callbacks, target
):
    base, receiver = webhook_server
    receiver.location = target
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=GiB, webhook_url=f"{base}/hook")
    evaluate_and_deliver(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.webhook_status == 307
    assert alert.webhook_error == f"HTTP 307: redirect to {target} not followed"
    assert [r["path"] for r in receiver.requests] == ["/hook"]


def test_a_redirect_from_https_down_to_http_is_not_followed():
    with pytest.raises(_NotFollowed):
        redirect_target("https://hooks.example.com/a", "http://hooks.example.com/b")
    assert redirect_target("https://hooks.example.com/a", "/b") == "https://hooks.example.com/b"
    assert redirect_target("http://hooks.example.com/a", "https://other.example.com/b") == (
        "https://other.example.com/b"
    )


def test_only_http_and_https_are_ever_sent():
    assert post_json("ftp://127.0.0.1/x", {}, 1) == (None, "Only http and https webhooks are sent.")
    assert post_json("file:///etc/passwd", {}, 1) == (None, "Only http and https webhooks are sent.")


def test_delivery_for_a_deleted_alert_does_nothing():
    assert deliver_webhook(987654, {"status": "firing"}) == {
        "alert_id": 987654,
        "status": None,
        "error": "alert deleted",
    }
