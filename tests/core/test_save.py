"""The save step of a collection, fed with synthetic catalog results."""

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from capacity.services.collect import save_sizes
from instances.engines import CollectResult, DatabaseSize

pytestmark = pytest.mark.django_db


def result(sizes: dict[str, int], skipped=()):
    return CollectResult(
        databases=[
            DatabaseSize(name=n, size_bytes=s, data_size_bytes=s - s // 4, index_size_bytes=s // 4)
            for n, s in sizes.items()
        ],
        skipped=list(skipped),
    )


@pytest.fixture
def instance(make_instance):
    return make_instance("inst", "mysql")


def _queries(instance, n):
    """Queries of a first save, a second the same day, and one the next day with 10% gone."""
    sizes = {f"db{i:05d}": 1000 + i for i in range(n)}
    day1, day2 = datetime(2026, 1, 1, 12, tzinfo=UTC), datetime(2026, 1, 2, 12, tzinfo=UTC)
    counts = []
    for when, current in ((day1, sizes), (day1, sizes), (day2, dict(list(sizes.items())[n // 10 :]))):
        with CaptureQueriesContext(connection) as ctx:
            save_sizes(instance, result(current), when)
        counts.append(len(ctx))
    return counts


def test_query_count_does_not_grow_with_the_database_count(make_instance):
    counts = {n: _queries(make_instance(f"i{n}", "mysql"), n) for n in (10, 100, 1000)}
    assert counts[10] == counts[100] == counts[1000], counts
    first, again, with_vanished = counts[10]
    assert first == again == with_vanished, counts


def test_exact_bytes_and_instance_total(instance):
    big = 5 * 1024**4 + 123  # 5 TiB and change: no truncation to MB, no int32 overflow
    outcome = save_sizes(instance, result({"a": big, "b": 7}))
    a = DatabaseSizeStat.objects.get(database_name="a")
    assert a.size_bytes == big and a.index_size_bytes == big // 4
    total = InstanceSizeStat.objects.get(instance=instance)
    assert total.total_size_bytes == big + 7 == outcome.total_size_bytes
    assert total.database_count == 2


def test_vanished_database_keeps_its_last_size_marked_deleted_then_restored(instance):
    save_sizes(instance, result({"a": 100, "b": 200}), datetime(2026, 1, 1, 12, tzinfo=UTC))
    outcome = save_sizes(instance, result({"a": 110}), datetime(2026, 1, 2, 12, tzinfo=UTC))
    assert outcome.deleted_count == 1
    gone = DatabaseSizeStat.objects.get(database_name="b", collected_date="2026-01-02")
    assert gone.is_deleted and gone.size_bytes == 200 and gone.deleted_at is not None
    assert not DatabaseSizeStat.objects.get(database_name="b", collected_date="2026-01-01").is_deleted
    assert InstanceSizeStat.objects.get(collected_date="2026-01-02").total_size_bytes == 110

    # Still gone a day later: no new row for it (it vanished once).
    save_sizes(instance, result({"a": 120}), datetime(2026, 1, 3, 12, tzinfo=UTC))
    assert not DatabaseSizeStat.objects.filter(database_name="b", collected_date="2026-01-03").exists()

    outcome = save_sizes(instance, result({"a": 120, "b": 50}), datetime(2026, 1, 4, 12, tzinfo=UTC))
    assert outcome.restored_count == 1
    inv = DatabaseInventory.objects.get(database_name="b")
    assert not inv.is_deleted and inv.restored_at is not None and inv.last_size_bytes == 50
    assert inv.first_seen_at == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_same_day_drop_marks_todays_row_and_return_unmarks_it(instance):
    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    save_sizes(instance, result({"a": 1, "b": 2}), noon)
    save_sizes(instance, result({"a": 1}), noon.replace(hour=13))
    row = DatabaseSizeStat.objects.get(database_name="b")
    assert row.is_deleted
    save_sizes(instance, result({"a": 1, "b": 3}), noon.replace(hour=14))
    row.refresh_from_db()
    assert not row.is_deleted and row.deleted_at is None and row.size_bytes == 3
    assert DatabaseSizeStat.objects.count() == 2


def test_unreadable_database_is_not_taken_for_vanished(instance):
    save_sizes(instance, result({"a": 1, "locked": 2}), datetime(2026, 1, 1, tzinfo=UTC))
    save_sizes(instance, result({"a": 1}, skipped=["locked"]), datetime(2026, 1, 2, tzinfo=UTC))
    assert not DatabaseInventory.objects.get(database_name="locked").is_deleted
    assert not DatabaseSizeStat.objects.filter(database_name="locked", is_deleted=True).exists()


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_collected_date_is_the_date_in_time_zone(instance):
    # 20:30 UTC on 1 May is 04:30 on 2 May in Shanghai.
    outcome = save_sizes(instance, result({"a": 1}), datetime(2026, 5, 1, 20, 30, tzinfo=UTC))
    assert str(outcome.collected_date) == "2026-05-02"
    assert str(DatabaseSizeStat.objects.get().collected_date) == "2026-05-02"


def _unlisted(sizes: dict[str, int]):
    """A result whose listing may be incomplete (narrow grants); engines set listing_complete."""
    base = result(sizes)
    if "listing_complete" in {f.name for f in dataclasses.fields(CollectResult)}:
        return dataclasses.replace(base, listing_complete=False)
    return SimpleNamespace(databases=base.databases, skipped=[], warnings=[], listing_complete=False)


def test_unreadable_database_keeps_its_size_in_the_total_marked_carried_over(instance):
    save_sizes(instance, result({"a": 100, "offline": 900}), datetime(2026, 1, 1, tzinfo=UTC))
    outcome = save_sizes(instance, result({"a": 110}, skipped=["offline"]), datetime(2026, 1, 2, tzinfo=UTC))
    kept = DatabaseSizeStat.objects.get(database_name="offline", collected_date="2026-01-02")
    assert kept.is_carried_over and not kept.is_deleted and kept.size_bytes == 900
    assert not DatabaseSizeStat.objects.get(database_name="a", collected_date="2026-01-02").is_carried_over
    total = InstanceSizeStat.objects.get(collected_date="2026-01-02")
    # The list (non-deleted rows of the day), the summary and the total agree: no drop.
    day_rows = DatabaseSizeStat.objects.filter(instance=instance, collected_date="2026-01-02", is_deleted=False)
    assert total.total_size_bytes == 1010 == sum(r.size_bytes for r in day_rows) == outcome.total_size_bytes
    assert total.database_count == 2 == day_rows.count() == outcome.databases_count
    assert outcome.carried_count == 1 and outcome.deleted_count == 0

    # Readable again later the same day: measured, no longer carried over.
    save_sizes(instance, result({"a": 110, "offline": 950}), datetime(2026, 1, 2, 6, tzinfo=UTC))
    kept.refresh_from_db()
    assert not kept.is_carried_over and kept.size_bytes == 950


def test_a_database_the_login_no_longer_sees_is_kept_when_the_listing_may_be_incomplete(instance):
    save_sizes(instance, result({"a": 100, "revoked": 300}), datetime(2026, 1, 1, tzinfo=UTC))
    outcome = save_sizes(instance, _unlisted({"a": 100}), datetime(2026, 1, 2, tzinfo=UTC))
    assert outcome.deleted_count == 0 and outcome.unseen_count == 1
    row = DatabaseSizeStat.objects.get(database_name="revoked", collected_date="2026-01-02")
    assert row.is_carried_over and not row.is_deleted and row.size_bytes == 300
    assert InstanceSizeStat.objects.get(collected_date="2026-01-02").total_size_bytes == 400
    assert not DatabaseInventory.objects.get(database_name="revoked").is_deleted
