"""Concurrent collection: hangs and failures stay with their own instance."""

import threading
import time
import uuid

import pytest
from django.test import override_settings

from capacity.services import budgets as budgets_module
from capacity.services.collect import acquire_instance_lock, collect, release_instance_lock
from instances.engines import CollectResult, DatabaseSize
from instances.engines.base import BaseEngine
from sync_sessions.choices import RecordStatus, SessionStatus
from tests.loopback import silent_server

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(CAPACITY_CONNECT_TIMEOUT=2)
def test_silent_server_fails_alone_within_its_timeout(pg_box, pg_instance, make_instance):
    pg_box.create_database("fine", rows=10)
    with silent_server() as port:
        silent = make_instance("silent", "postgresql", port=port, username="postgres")
        started = time.monotonic()
        session = collect([silent, pg_instance], concurrency=2)
        elapsed = time.monotonic() - started
    records = {r.instance_name: r for r in session.records.all()}
    assert records["silent"].status == RecordStatus.FAILED
    assert records["silent"].error_kind in ("timeout", "connection")
    assert records[pg_instance.name].status == RecordStatus.COMPLETED
    assert session.status == SessionStatus.PARTIAL
    assert elapsed < 2 + 5


class _FakeEngine(BaseEngine):
    """Answers after a delay that depends on the instance, to test scheduling without servers."""

    delays: dict = {}
    running = 0
    peak = 0
    lock = threading.Lock()

    def _open(self):
        return self

    def close(self):
        self._conn = None

    def _server_version(self):
        return "fake"

    def _list_database_sizes(self):
        cls = type(self)
        with cls.lock:
            cls.running += 1
            cls.peak = max(cls.peak, cls.running)
        try:
            time.sleep(cls.delays.get(self.params.name, 0.2))
        finally:
            with cls.lock:
                cls.running -= 1
        return CollectResult(databases=[DatabaseSize(name="db", size_bytes=1, data_size_bytes=1)])


@pytest.fixture
def fake_engine(monkeypatch):
    _FakeEngine.delays, _FakeEngine.running, _FakeEngine.peak = {}, 0, 0
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: _FakeEngine)
    return _FakeEngine


def test_concurrency_is_bounded(fake_engine, make_instance):
    instances = [make_instance(f"i{n}", "mysql") for n in range(6)]
    session = collect(instances, concurrency=3)
    assert session.status == SessionStatus.COMPLETED
    assert fake_engine.peak == 3


def test_watchdog_gives_up_on_a_hung_instance_and_keeps_the_rest(fake_engine, make_instance, monkeypatch):
    monkeypatch.setattr(budgets_module, "instance_time_limit", lambda *a: 1.0)
    hung = make_instance("hung", "mysql")
    others = [make_instance(f"ok{n}", "mysql") for n in range(3)]
    fake_engine.delays = {"hung": 4}
    started = time.monotonic()
    session = collect([hung, *others], concurrency=2)
    assert time.monotonic() - started < 3.5
    records = {r.instance_name: r for r in session.records.all()}
    assert records["hung"].status == RecordStatus.FAILED and records["hung"].error_kind == "timeout"
    assert all(records[f"ok{n}"].status == RecordStatus.COMPLETED for n in range(3))
    assert session.status == SessionStatus.PARTIAL
    time.sleep(3)  # let the stuck thread finish: its late result must not overwrite the verdict
    records["hung"].refresh_from_db()
    assert records["hung"].status == RecordStatus.FAILED


def test_instance_already_being_collected_is_skipped(fake_engine, make_instance):
    inst = make_instance("busy", "mysql")
    other_run = uuid.uuid4()
    assert acquire_instance_lock(inst.pk, other_run)
    session = collect([inst])
    record = session.records.get()
    assert record.status == RecordStatus.SKIPPED and "another run" in record.error
    release_instance_lock(inst.pk, other_run)
    assert collect([inst]).records.get().status == RecordStatus.COMPLETED


def test_inactive_instance_is_skipped_and_all_failed_is_failed(fake_engine, make_instance):
    inactive = make_instance("off", "mysql", is_active=False)
    no_cred = make_instance("nocred", "mysql")
    no_cred.credential = None
    no_cred.save()
    session = collect([inactive, no_cred])
    records = {r.instance_name: r for r in session.records.all()}
    assert records["off"].status == RecordStatus.SKIPPED
    assert records["nocred"].status == RecordStatus.FAILED and records["nocred"].error_kind == "auth"
    assert session.status == SessionStatus.FAILED
    assert session.successful_instances == 0 and session.failed_instances == 1 and session.skipped_instances == 1


def test_a_session_whose_process_died_is_settled(fake_engine, make_instance):
    from datetime import timedelta

    from django.utils import timezone

    from capacity.services.collect import create_session, settle_interrupted_sessions
    from sync_sessions.models import SyncSession

    done, lost = make_instance("done", "mysql"), make_instance("lost", "mysql")
    session = create_session([done, lost])
    session.records.filter(instance=done).update(status=RecordStatus.COMPLETED, databases_count=1)
    fresh = create_session([done])
    SyncSession.objects.filter(pk=session.pk).update(
        started_at=timezone.now() - timedelta(days=1), heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    assert settle_interrupted_sessions()["finalized_sessions"] == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.PARTIAL and session.completed_at is not None
    record = session.records.get(instance=lost)
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    fresh.refresh_from_db()
    assert fresh.status == SessionStatus.RUNNING  # a run that may still be working is left alone
