"""Every model field a reader would filter on has a filter, and every FK has `<fk>_id` and a readable variant."""

import pytest

from capacity.filtersets import DatabaseInventoryFilterSet, DatabaseSizeStatFilterSet, InstanceSizeStatFilterSet
from instances.filtersets import CredentialFilterSet, InstanceFilterSet
from sync_sessions.filtersets import SyncInstanceRecordFilterSet, SyncSessionFilterSet

# Fields that are no use as filters: secrets, free text better found with `q`/`search`,
# timestamps covered by date ranges, bookkeeping and JSON.
NOT_FILTERED = {
    # liveness bookkeeping of a collection (issue 9), not something to search by
    "attempt",
    "heartbeat_at",
    "dispatched_at",
    "dispatch_count",
    "queued",
    "cancelled_at",
    "cancelled_by",
    "is_carried_over",
    "password",
    "options",
    "warnings",
    "error",
    "last_sync_error",
    "collection_lock",
    "collection_locked_at",
    "created_at",
    "updated_at",
    "last_connected",
    "last_sync_at",
    "collected_at",
    "deleted_at",
    "started_at",
    "completed_at",
    "first_seen_at",
    "last_seen_at",
    "restored_at",
    "capacity_limit_bytes",
    "size_bytes",
    "data_size_bytes",
    "index_size_bytes",
    "log_size_bytes",
    "total_size_bytes",
    "database_count",
    "databases_count",
    "saved_count",
    "deleted_count",
    "last_size_bytes",
    "last_data_size_bytes",
    "last_index_size_bytes",
    "last_log_size_bytes",
    "allocated_size_bytes",
    "last_allocated_size_bytes",
    "total_instances",
    "successful_instances",
    "failed_instances",
    "skipped_instances",
    "total_databases",
    "instance_name",
}

# A session is known by its UUID everywhere in the API, so its `session_id` filter is the readable one.
KEY_IS_READABLE = {("SyncInstanceRecord", "session")}

FILTERSETS = [
    CredentialFilterSet,
    InstanceFilterSet,
    DatabaseSizeStatFilterSet,
    InstanceSizeStatFilterSet,
    DatabaseInventoryFilterSet,
    SyncSessionFilterSet,
    SyncInstanceRecordFilterSet,
]


@pytest.mark.parametrize("filterset", FILTERSETS, ids=lambda f: f.__name__)
def test_every_model_field_has_a_filter(filterset):
    model = filterset._meta.model
    filters = set(filterset.base_filters)
    for field in model._meta.get_fields():
        if field.auto_created and not field.concrete:
            continue  # reverse relations
        if not field.concrete or field.name in NOT_FILTERED or field.name == "id" and "id" in filters:
            continue
        if field.is_relation:
            assert f"{field.name}_id" in filters, f"{filterset.__name__} has no {field.name}_id filter"
            if (model.__name__, field.name) not in KEY_IS_READABLE:
                assert field.name in filters, f"{filterset.__name__} has no readable {field.name} filter"
        else:
            assert field.name in filters, f"{filterset.__name__} has no filter for {model.__name__}.{field.name}"


@pytest.mark.django_db
@pytest.mark.parametrize("filterset", FILTERSETS, ids=lambda f: f.__name__)
def test_an_empty_query_is_valid_and_filters_nothing_away(filterset):
    fs = filterset({}, queryset=filterset._meta.model.objects.all())
    assert fs.is_valid(), fs.errors
