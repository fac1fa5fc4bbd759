"""manage.py evaluate_alerts as a DBA runs it: its own process on the same database, with its exit code."""

import pytest

from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert, AlertRule
from tests.platform import manage

from .conftest import END, GiB, add_collection

pytestmark = pytest.mark.django_db(transaction=True)


def test_fires_prints_and_exits_zero(make_target):
    orders = make_target("orders")
    add_collection(orders, END, {"sales": 3 * GiB})
    AlertRule.objects.create(name="big", kind=AlertKind.TOTAL_SIZE, threshold_bytes=GiB)
    done = manage("evaluate_alerts")
    assert done.returncode == 0, done.stderr
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.FIRING
    assert f"FIRING    [big] {alert.message}" in done.stdout
    assert "1 fired, 0 still firing, 0 resolved." in done.stdout


def test_an_unknown_instance_exits_two(make_target):
    make_target("orders")
    done = manage("evaluate_alerts", "--instance", "no-such-instance")
    assert done.returncode == 2
    assert "Unknown instance: no-such-instance" in done.stderr and "Traceback" not in done.stderr
