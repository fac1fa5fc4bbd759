"""Alerting hooked into a real collection (fake engine, real threads and sessions), and kept out of its way."""

import logging

import pytest

from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert, AlertRule
from alerting.services import evaluation
from capacity.services.collect import collect
from sync_sessions.choices import RecordStatus, SessionStatus

from .conftest import GiB

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_collection_fires_and_resolves_alerts_and_posts_them(sized_engine, make_instance, webhook_server):
    base, receiver = webhook_server
    orders = make_instance("orders", "mysql")
    billing = make_instance("billing", "postgresql")
    AlertRule.objects.create(
        name="big", kind=AlertKind.DATABASE_SIZE, threshold_bytes=GiB, webhook_url=f"{base}/alerts"
    )
    sized_engine.sizes = {"orders": {"sales": 2 * GiB, "logs": 1}, "billing": {"ledger": 3 * GiB}}

    session = collect([orders, billing])
    assert session.status == SessionStatus.COMPLETED
    firing = {(a.instance.name, a.database_name) for a in Alert.objects.filter(status=AlertStatus.FIRING)}
    assert firing == {("orders", "sales"), ("billing", "ledger")}
    assert receiver.wait_for(2)
    assert sorted((b["instance_name"], b["database_name"], b["status"]) for b in receiver.bodies()) == [
        ("billing", "ledger", "firing"),
        ("orders", "sales", "firing"),
    ]
    assert all(a.webhook_status == 200 for a in Alert.objects.all())

    # Next run: orders shrinks, billing cannot be reached. Only the collected instance is re-evaluated.
    sized_engine.sizes["orders"] = {"sales": 1, "logs": 1}
    sized_engine.failing = {"billing"}
    session = collect([orders, billing])
    assert session.status == SessionStatus.PARTIAL
    assert Alert.objects.get(database_name="sales").status == AlertStatus.RESOLVED
    assert Alert.objects.get(database_name="ledger").status == AlertStatus.FIRING
    assert receiver.wait_for(3)
    assert receiver.bodies()[2]["status"] == "resolved" and receiver.bodies()[2]["database_name"] == "sales"


def test_an_alerting_failure_never_fails_the_collection(sized_engine, make_instance, monkeypatch, caplog):
    def broken(instances=None):
        raise RuntimeError("rules exploded")

    monkeypatch.setattr(evaluation, "evaluate", broken)
    orders = make_instance("orders", "mysql")
    AlertRule.objects.create(name="big", kind=AlertKind.TOTAL_SIZE, threshold_bytes=1)
    sized_engine.sizes = {"orders": {"sales": GiB}}
    with caplog.at_level(logging.ERROR, logger="alerting.services.evaluation"):
        session = collect([orders])
    assert session.status == SessionStatus.COMPLETED
    assert session.records.get().status == RecordStatus.COMPLETED
    assert "evaluating alert rules after session" in caplog.text and "rules exploded" in caplog.text
    assert not Alert.objects.exists()


def test_a_collection_queues_webhooks_instead_of_sending_them(sized_engine, make_instance, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    orders = make_instance("orders", "mysql")
    AlertRule.objects.create(
        name="big", kind=AlertKind.TOTAL_SIZE, threshold_bytes=1, webhook_url="http://127.0.0.1:9/never-called"
    )
    sized_engine.sizes = {"orders": {"sales": GiB}}
    collect([orders])
    alert = Alert.objects.get()
    assert [(name, alert_id) for name, alert_id, _payload in queued] == [
        ("alerting.tasks.deliver_alert_webhook", alert.pk)
    ]
    assert alert.webhook_status is None and alert.webhook_error == ""


def test_a_failed_collection_evaluates_nothing(sized_engine, make_instance):
    orders = make_instance("orders", "mysql")
    AlertRule.objects.create(name="big", kind=AlertKind.TOTAL_SIZE, threshold_bytes=1)
    sized_engine.failing = {"orders"}
    session = collect([orders])
    assert session.status == SessionStatus.FAILED
    assert not Alert.objects.exists()
