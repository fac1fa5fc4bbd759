# AlertRule and Alert now belong to the alerting app (issue #10): capacity forgets them in Django's
# state only; their tables and rows are kept and taken over by alerting.0001_initial.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('capacity', '0004_alertrule_alert'),
        ('alerting', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Alert'),
                migrations.DeleteModel(name='AlertRule'),
            ],
            database_operations=[],
        ),
    ]
