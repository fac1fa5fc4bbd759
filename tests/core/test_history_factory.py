"""tests/factories.py writes history through the collection service, and that path's queries are pinned."""

from datetime import date, timedelta

import pytest

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeAggregate, InstanceSizeStat
from tests.factories import at, record_collection, record_history

DAY = date(2025, 3, 3)
# save_sizes: read the inventory, upsert the daily rows, the inventory and the total, update the instance,
# inside one transaction (savepoint and release on the test's outer transaction).
SAVE_QUERIES = 7


def test_history_is_written_as_a_collection_writes_it(make_instance):
    inst = make_instance("orders", "mysql")
    record_history(inst, [(at(DAY - timedelta(days=1)), {"sales": 300, "old": 40}), (at(DAY), {"sales": 400})])
    total = InstanceSizeStat.objects.get(instance=inst, collected_date=DAY)
    assert (total.total_size_bytes, total.database_count) == (400, 1)
    assert DatabaseSizeStat.objects.get(instance=inst, database_name="old", collected_date=DAY).is_deleted
    inventory = {row.database_name: row for row in DatabaseInventory.objects.filter(instance=inst)}
    assert inventory["sales"].last_size_bytes == 400 and inventory["old"].is_deleted
    assert InstanceSizeAggregate.objects.filter(instance=inst).exists()  # brought up to date as after a run


@pytest.mark.parametrize("databases", [1, 3, 250])
def test_one_collection_costs_the_same_queries_whatever_its_size(make_instance, django_assert_num_queries, databases):
    inst = make_instance("orders", "postgresql")
    record_collection(inst, at(DAY - timedelta(days=1)), {f"db{i}": 1000 + i for i in range(databases)})
    with django_assert_num_queries(SAVE_QUERIES):
        record_collection(inst, at(DAY), {f"db{i}": 2000 + i for i in range(databases)})
