"""manage.py evaluate_alerts and the django-q2 entry points."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.tasks import async_task, result

from alerting import tasks
from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert

from .conftest import END, GiB, add_collection

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(make_target, make_rule):
    inst = make_target("orders")
    make_target("billing")
    add_collection(inst, END, {"sales": 3 * GiB})
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=2 * GiB)
    return inst


def run(*args):
    out = StringIO()
    call_command("evaluate_alerts", *args, stdout=out)
    return out.getvalue()


def test_command_prints_what_fired_and_what_resolved(orders):
    output = run()
    alert = Alert.objects.get()
    assert f"FIRING    [big] {alert.message}" in output
    assert "1 active rule(s) over 2 instance(s): 1 fired, 0 still firing, 0 resolved." in output
    assert "1 fired, 1 still firing" not in run() and "0 fired, 1 still firing, 0 resolved." in run()
    add_collection(orders, END + timedelta(days=1), {"sales": GiB})
    output = run("--instance", "orders")
    assert "RESOLVED  [big] orders: the condition no longer holds (firing since " in output
    assert "over 1 instance(s): 0 fired, 0 still firing, 1 resolved." in output


def test_command_evaluates_only_the_named_instances(orders):
    assert "over 1 instance(s): 0 fired" in run("--instance", "billing")
    assert not Alert.objects.exists()


def test_command_refuses_an_unknown_instance(orders):
    with pytest.raises(CommandError) as caught:
        run("--instance", "orders", "--instance", "nowhere")
    assert caught.value.returncode == 2 and "nowhere" in str(caught.value)


def test_task_entry_point_runs_through_the_queue(orders):
    task_id = async_task("alerting.tasks.evaluate_alerts")  # sync mode in tests: run in-process
    outcome = result(task_id)
    alert = Alert.objects.get()
    assert outcome == {"rules": 1, "instances": 2, "fired": [alert.pk], "still_firing": 0, "resolved": []}
    assert tasks.evaluate_alerts()["still_firing"] == 1


def test_delivery_task_records_the_outcome(orders):
    tasks.evaluate_alerts()
    alert = Alert.objects.get()
    alert.rule.webhook_url = "http://127.0.0.1:9/closed"
    alert.rule.save()
    outcome = tasks.deliver_alert_webhook(alert.pk, {"status": AlertStatus.FIRING})
    alert.refresh_from_db()
    assert outcome["alert_id"] == alert.pk and outcome["error"] == alert.webhook_error != ""
