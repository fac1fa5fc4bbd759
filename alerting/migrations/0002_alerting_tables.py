# The tables of the moved alert models take the alerting app's names; rows, ids and indexes are kept.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('alerting', '0001_initial'),
        ('capacity', '0005_alerts_moved_to_alerting'),
    ]

    operations = [
        migrations.AlterModelTable(name='alertrule', table=None),
        migrations.AlterModelTable(name='alert', table=None),
    ]
