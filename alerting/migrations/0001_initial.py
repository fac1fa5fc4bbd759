# The alert models moved here from capacity (issue #10). Their rows stay: this migration only takes
# them over in Django's state, on capacity's tables; 0002 then renames the tables.

import common.validators
import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('capacity', '0004_alertrule_alert'),
        ('instances', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='AlertRule',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                    ('kind', models.CharField(choices=[('total_size', 'Instance total size'), ('database_size', 'Database size'), ('growth_percent', 'Growth percent'), ('days_until_full', 'Days until full')], max_length=20, verbose_name='kind')),
                    ('db_type', models.CharField(blank=True, choices=[('mysql', 'MySQL / MariaDB'), ('postgresql', 'PostgreSQL'), ('sqlserver', 'SQL Server'), ('oracle', 'Oracle')], default='', help_text='Only instances of this database type; empty: any type.', max_length=20, verbose_name='database type')),
                    ('threshold_bytes', models.BigIntegerField(blank=True, help_text='Total size and database size rules: fire at or above this many bytes.', null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name='threshold (bytes)')),
                    ('threshold_percent', models.DecimalField(blank=True, decimal_places=2, help_text='Growth percent rules: fire when the instance total grew at least this much over the window.', max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0.01'))], verbose_name='threshold (%)')),
                    ('threshold_days', models.PositiveIntegerField(blank=True, help_text='Days until full rules: fire when the forecast reaches the capacity limit within this many days.', null=True, validators=[django.core.validators.MaxValueValidator(36500)], verbose_name='threshold (days)')),
                    ('window_days', models.PositiveSmallIntegerField(default=30, help_text='Growth percent: the days the growth is measured over. Days until full: the days of history the trend is fitted to (at least 7).', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(365)], verbose_name='window (days)')),
                    ('webhook_url', models.URLField(blank=True, default='', help_text='Receives every alert of this rule as JSON when it fires and when it resolves (http or https).', max_length=500, validators=[common.validators.validate_webhook_url], verbose_name='webhook URL')),
                    ('is_active', models.BooleanField(default=True, verbose_name='active')),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                    ('instance', models.ForeignKey(blank=True, help_text='Empty: every active instance.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='instances.instance', verbose_name='instance')),
                ],
                options={
                    'db_table': 'capacity_alertrule',
                    'verbose_name': 'alert rule',
                    'verbose_name_plural': 'alert rules',
                    'ordering': ['name'],
                },
            ),
            migrations.CreateModel(
                name='Alert',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('database_name', models.CharField(blank=True, default='', help_text='Empty for instance-wide rules.', max_length=255, verbose_name='database')),
                    ('status', models.CharField(choices=[('firing', 'Firing'), ('resolved', 'Resolved')], default='firing', max_length=10, verbose_name='status')),
                    ('value', models.DecimalField(decimal_places=2, max_digits=24, verbose_name='value')),
                    ('threshold', models.DecimalField(decimal_places=2, max_digits=24, verbose_name='threshold')),
                    ('message', models.TextField(verbose_name='message')),
                    ('first_fired_at', models.DateTimeField(verbose_name='first fired at')),
                    ('last_evaluated_at', models.DateTimeField(verbose_name='last evaluated at')),
                    ('resolved_at', models.DateTimeField(blank=True, null=True, verbose_name='resolved at')),
                    ('webhook_status', models.PositiveSmallIntegerField(blank=True, help_text='The answer to the latest delivery attempt.', null=True, verbose_name='webhook HTTP status')),
                    ('webhook_error', models.TextField(blank=True, default='', verbose_name='webhook error')),
                    ('webhook_delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='webhook delivered at')),
                    ('instance', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='instances.instance', verbose_name='instance')),
                    ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='alerting.alertrule', verbose_name='rule')),
                ],
                options={
                    'db_table': 'capacity_alert',
                    'verbose_name': 'alert',
                    'verbose_name_plural': 'alerts',
                    'ordering': ['-first_fired_at', '-id'],
                    'indexes': [models.Index(fields=['status', 'instance'], name='alert_status_instance')],
                    'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'firing')), fields=('rule', 'instance', 'database_name'), name='alert_one_firing_per_key')],
                },
            ),
            ],
            database_operations=[],
        ),
    ]
