from django.db import migrations, models
from django.db.models import BigIntegerField, Case, Exists, OuterRef, Subquery, Sum, Value, When


def derive_user_totals(apps, schema_editor):
    """Each day's total without the system databases, from that day's database rows.

    A database counts as system when the inventory flags it (the engines flag their own on every
    collection). Days with no database rows left (history trimmed) keep a null figure.
    """
    InstanceSizeStat = apps.get_model("capacity", "InstanceSizeStat")
    DatabaseSizeStat = apps.get_model("capacity", "DatabaseSizeStat")
    DatabaseInventory = apps.get_model("capacity", "DatabaseInventory")
    system = DatabaseInventory.objects.filter(
        instance_id=OuterRef("instance_id"), database_name=OuterRef("database_name"), is_system=True
    )
    user_rows = (
        DatabaseSizeStat.objects.filter(
            instance_id=OuterRef("instance_id"), collected_date=OuterRef("collected_date"), is_deleted=False
        )
        .annotate(_system=Exists(system))
        .order_by()
        .values("instance_id")
    )
    user_size = Case(When(_system=True, then=Value(0)), default="size_bytes", output_field=BigIntegerField())
    user_one = Case(When(_system=True, then=Value(0)), default=Value(1), output_field=BigIntegerField())
    InstanceSizeStat.objects.update(
        user_total_size_bytes=Subquery(user_rows.annotate(_s=Sum(user_size)).values("_s")[:1]),
        user_database_count=Subquery(user_rows.annotate(_n=Sum(user_one)).values("_n")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("capacity", "0009_partition_table_sizes"),
    ]

    operations = [
        migrations.AddField(
            model_name="instancesizestat",
            name="user_database_count",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="user databases"),
        ),
        migrations.AddField(
            model_name="instancesizestat",
            name="user_total_size_bytes",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="user databases' size (bytes)"),
        ),
        migrations.RunPython(derive_user_totals, migrations.RunPython.noop, elidable=True),
    ]
