"""Two runs over the same instance at once: the second records it as skipped (per-instance lock)."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from capacity import tasks
from capacity.services.collect import acquire_instance_lock, collect, instance_time_limit
from instances.engines import CollectResult, DatabaseSize
from instances.engines.base import BaseEngine
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncSession

pytestmark = pytest.mark.django_db(transaction=True)


class _GatedEngine(BaseEngine):
    """Holds the collection open until the test lets it go."""

    entered = threading.Event()
    release = threading.Event()

    def _open(self):
        return self

    def close(self):
        self._conn = None

    def _server_version(self):
        return "gated"

    def _list_database_sizes(self):
        type(self).entered.set()
        assert type(self).release.wait(30), "the test never released the engine"
        return CollectResult(databases=[DatabaseSize(name="app", size_bytes=4096, data_size_bytes=4096)])


@pytest.fixture
def gated(monkeypatch):
    _GatedEngine.entered, _GatedEngine.release = threading.Event(), threading.Event()
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: _GatedEngine)
    yield _GatedEngine
    _GatedEngine.release.set()


def test_manual_run_during_the_nightly_run_skips_the_busy_instance(gated, make_instance):
    busy = make_instance("lock-busy", "mysql")
    outcome = {}

    def nightly():
        try:
            outcome["status"] = tasks.scheduled_collection()
        finally:
            connections.close_all()

    thread = threading.Thread(target=nightly)
    thread.start()
    try:
        assert gated.entered.wait(10), "the nightly run never reached the engine"
        second = collect([busy])
        record = second.records.get()
        assert record.status == RecordStatus.SKIPPED
        assert "another run" in record.error
        # Nothing was collected by this run: it must not report success.
        assert second.status == SessionStatus.FAILED and second.skipped_instances == 1
    finally:
        gated.release.set()
        thread.join(30)
    assert outcome["status"] == SessionStatus.COMPLETED
    nightly_session = SyncSession.objects.get(sync_type=SyncType.SCHEDULED)
    assert nightly_session.records.get().status == RecordStatus.COMPLETED
    busy.refresh_from_db()
    assert busy.collection_lock is None  # released when the run ended


def test_a_lock_left_by_a_dead_run_is_taken_over(gated, make_instance):
    inst = make_instance("lock-stale", "mysql")
    assert acquire_instance_lock(inst.pk, uuid.uuid4())
    long_ago = timezone.now() - timedelta(seconds=instance_time_limit() * 2 + 60)
    Instance.objects.filter(pk=inst.pk).update(collection_locked_at=long_ago)
    gated.release.set()
    session = collect([inst])
    assert session.records.get().status == RecordStatus.COMPLETED
