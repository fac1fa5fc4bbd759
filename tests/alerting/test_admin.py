"""The admin: rules editable with the model's checks, alerts read-only with status badges and filters."""

from datetime import timedelta

import pytest

from alerting.choices import AlertKind, AlertStatus
from alerting.models import Alert, AlertRule
from alerting.services import evaluate

from .conftest import END, GiB, add_collection

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "secret-password")
    client.force_login(user)
    return client


@pytest.fixture
def alerts(make_target, make_rule):
    orders = make_target("orders")
    billing = make_target("billing")
    add_collection(orders, END, {"sales": 3 * GiB})
    add_collection(billing, END, {"ledger": 3 * GiB})
    make_rule("big", AlertKind.TOTAL_SIZE, threshold_bytes=2 * GiB, webhook_url="https://hooks.example.com/a")
    make_rule("fast", AlertKind.GROWTH_PERCENT, threshold_percent=20, window_days=7, instance=orders)
    evaluate()
    add_collection(billing, END + timedelta(days=1), {"ledger": GiB})
    evaluate()
    return orders, billing


def test_rule_list_shows_kind_threshold_scope_and_firing_count(staff, alerts):
    response = staff.get("/admin/alerting/alertrule/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("big", "Instance total size", "2.00 GiB", "Every active instance", "fast", "20.00 % over 7 days"):
        assert text in page, text
    assert "?rule__id__exact=" in page and "status__exact=firing" in page


def test_alert_list_has_badges_and_filters(staff, alerts):
    response = staff.get("/admin/alerting/alert/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="capacity-status capacity-status-failed"') == 1  # orders is firing
    assert page.count('class="capacity-status capacity-status-completed"') == 1  # billing resolved
    assert "3.00 GiB" in page and "capacity/css/capacity.css" in page
    for parameter in ("status__exact=firing", "rule__kind__exact=total_size", "instance__id__exact="):
        assert parameter in page, parameter
    filtered = staff.get("/admin/alerting/alert/?status__exact=resolved").content.decode()
    assert "billing" in filtered and 'capacity-status-failed"' not in filtered


def test_alerts_are_read_only(staff, alerts):
    alert = Alert.objects.first()
    assert staff.get("/admin/alerting/alert/add/").status_code == 403
    page = staff.get(f"/admin/alerting/alert/{alert.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    staff.post(f"/admin/alerting/alert/{alert.pk}/change/", {"status": AlertStatus.RESOLVED})
    assert Alert.objects.get(pk=alert.pk).status == alert.status


def test_rule_form_checks_the_kind_and_clears_other_thresholds(staff, make_target):
    form = {
        "name": "orders full",
        "kind": AlertKind.DAYS_UNTIL_FULL,
        "is_active": "on",
        "instance": "",
        "db_type": "",
        "threshold_bytes": "",
        "threshold_percent": "5",
        "threshold_days": "",
        "window_days": "30",
        "webhook_url": "ftp://hooks.example.com/x",
    }
    response = staff.post("/admin/alerting/alertrule/add/", form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "webhook_url" in errors and not AlertRule.objects.exists()

    response = staff.post("/admin/alerting/alertrule/add/", {**form, "webhook_url": ""})
    assert "threshold_days" in response.context["adminform"].form.errors

    response = staff.post("/admin/alerting/alertrule/add/", {**form, "webhook_url": "", "threshold_days": "30"})
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.threshold_days, rule.threshold_percent) == (30, None)


def test_read_only_staff_see_where_the_webhook_goes_but_not_its_secret(client, django_user_model, make_rule):
    from django.contrib.auth.models import Permission

    rule = make_rule(
        "loud", AlertKind.TOTAL_SIZE, threshold_bytes=1, webhook_url="https://hooks.example.com/services/s3cr3t"
    )
    user = django_user_model.objects.create_user("reader", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_alertrule"))
    client.force_login(user)
    page = client.get(f"/admin/alerting/alertrule/{rule.pk}/change/").content.decode()
    assert "https://hooks.example.com/…" in page and "s3cr3t" not in page


def test_the_old_capacity_admin_urls_redirect(staff):
    response = staff.get("/admin/capacity/alert/?status__exact=firing")
    assert response.status_code == 301
    assert response["Location"] == "/admin/alerting/alert/?status__exact=firing"
    response = staff.get("/admin/capacity/alertrule/7/change/")
    assert response["Location"] == "/admin/alerting/alertrule/7/change/"
