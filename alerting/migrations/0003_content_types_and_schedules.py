# Permissions hang on content types: moving capacity's alertrule/alert content types to alerting keeps
# every permission row, and so every group's and user's grant, as it was. Stored django-q2 schedules
# naming the old task paths are pointed at alerting.tasks.

from django.db import migrations

MODELS = ("alertrule", "alert")
TASKS = {
    "capacity.tasks.evaluate_alerts": "alerting.tasks.evaluate_alerts",
    "capacity.tasks.deliver_alert_webhook": "alerting.tasks.deliver_alert_webhook",
}


def _move_content_types(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue  # already there (created by an earlier post_migrate): keep it, grants included
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def _rename_tasks(apps, mapping):
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in mapping.items():
        Schedule.objects.filter(func=old).update(func=new)


def forwards(apps, schema_editor):
    _move_content_types(apps, "capacity", "alerting")
    _rename_tasks(apps, TASKS)


def backwards(apps, schema_editor):
    _move_content_types(apps, "alerting", "capacity")
    _rename_tasks(apps, {new: old for old, new in TASKS.items()})


class Migration(migrations.Migration):

    dependencies = [
        ('alerting', '0002_alerting_tables'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('django_q', '0018_task_success_index'),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
