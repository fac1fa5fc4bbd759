"""Moving the alert models from capacity to alerting keeps the rows, the grants and the stored schedules."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("capacity", "0004_alertrule_alert"), ("alerting", None)]
# The move, then the later alerting migrations the current models need (rules opting in to system databases).
AFTER = [("alerting", "0004_rule_include_system_databases")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor = MigrationExecutor(connection)  # re-read what is applied now
    return executor.loader.project_state(sorted(executor.loader.applied_migrations)).apps


@pytest.mark.django_db(transaction=True)
def test_rows_grants_and_schedules_survive_the_move():
    ContentType.objects.clear_cache()
    old = _migrate(BEFORE)
    now = timezone.now()
    Instance = old.get_model("instances", "Instance")
    OldRule, OldAlert = old.get_model("capacity", "AlertRule"), old.get_model("capacity", "Alert")
    OldCT, OldPermission = old.get_model("contenttypes", "ContentType"), old.get_model("auth", "Permission")
    OldGroup, OldSchedule = old.get_model("auth", "Group"), old.get_model("django_q", "Schedule")
    # Content types and permissions as post_migrate had made them when alerts lived in capacity.
    OldCT.objects.filter(app_label="alerting").delete()
    ct, _ = OldCT.objects.get_or_create(app_label="capacity", model="alertrule")
    grant, _ = OldPermission.objects.get_or_create(
        content_type=ct, codename="change_alertrule", defaults={"name": "Can change alert rule"}
    )
    group = OldGroup.objects.create(name="dba on call")
    group.permissions.add(grant)
    instance = Instance.objects.create(name="orders", db_type="mysql", host="db1")
    rule = OldRule.objects.create(name="big", kind="total_size", threshold_bytes=1)
    OldAlert.objects.create(
        rule=rule, instance=instance, value=2, threshold=1, message="m", first_fired_at=now, last_evaluated_at=now
    )
    OldSchedule.objects.create(name="alerts", func="capacity.tasks.evaluate_alerts", schedule_type="H")

    _migrate(AFTER)
    ContentType.objects.clear_cache()

    from django_q.models import Schedule

    from alerting.models import Alert, AlertRule

    assert AlertRule._meta.db_table == "alerting_alertrule"
    assert AlertRule.objects.get().pk == rule.pk
    assert Alert.objects.get().rule_id == rule.pk
    moved = ContentType.objects.get(pk=ct.pk)
    assert (moved.app_label, moved.model) == ("alerting", "alertrule")
    assert Permission.objects.get(pk=grant.pk).content_type_id == ct.pk
    assert list(Group.objects.get(name="dba on call").permissions.values_list("pk", flat=True)) == [grant.pk]
    assert Schedule.objects.get(name="alerts").func == "alerting.tasks.evaluate_alerts"

    # And back: the reverse migration hands everything to capacity again.
    _migrate(BEFORE)
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(pk=ct.pk).app_label == "capacity"
    assert Schedule.objects.get(name="alerts").func == "capacity.tasks.evaluate_alerts"
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
