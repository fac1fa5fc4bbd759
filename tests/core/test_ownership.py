"""One instance, one owner; every record settles; the session tells the truth (issue 9)."""

import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import OperationalError

from capacity.models import DatabaseSizeStat, InstanceSizeStat
from capacity.services import attempts as attempts_module
from capacity.services import budgets as budgets_module
from capacity.services import collect as collect_module
from capacity.services.collect import acquire_instance_lock, collect, create_session, run_session
from instances.engines import CollectResult, DatabaseSize, EngineError
from instances.engines.base import BaseEngine
from instances.models import Instance
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus, SessionStatus

pytestmark = pytest.mark.django_db(transaction=True)


class _BlockingEngine(BaseEngine):
    """The instance named "stuck" blocks until the test sets `release`; the others answer at once."""

    release = threading.Event()
    returned = threading.Event()
    sizes: dict = {}

    def _open(self):
        return self

    def close(self):
        self._conn = None

    def _server_version(self):
        return "blocking"

    def _list_database_sizes(self):
        cls = type(self)
        if self.params.name == "stuck":
            assert cls.release.wait(30), "the test never released the stuck engine"
            cls.returned.set()
        size = cls.sizes.get(self.params.name, 1000)
        return CollectResult(databases=[DatabaseSize(name="app", size_bytes=size, data_size_bytes=size)])


@pytest.fixture
def blocking(monkeypatch):
    _BlockingEngine.release, _BlockingEngine.returned, _BlockingEngine.sizes = (
        threading.Event(),
        threading.Event(),
        {},
    )
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: _BlockingEngine)
    yield _BlockingEngine
    _BlockingEngine.release.set()


def _wait_for(check, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_given_up_instance_writes_nothing_when_its_driver_finally_returns(blocking, make_instance, monkeypatch):
    monkeypatch.setattr(budgets_module, "instance_time_limit", lambda *a: 1.0)
    stuck = make_instance("stuck", "mysql")
    session = collect([stuck])
    record = session.records.get()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    assert session.status == SessionStatus.FAILED

    blocking.release.set()  # the driver answers at last
    assert blocking.returned.wait(10)
    time.sleep(1.0)  # give the late thread every chance to save
    assert not DatabaseSizeStat.objects.filter(instance=stuck).exists()
    assert not InstanceSizeStat.objects.filter(instance=stuck).exists()
    stuck.refresh_from_db()
    assert stuck.last_sync_status == RecordStatus.FAILED and stuck.last_connected is None
    record.refresh_from_db()
    assert record.status == RecordStatus.FAILED


def test_a_late_result_never_overwrites_the_run_that_took_the_instance_over(blocking, make_instance, monkeypatch):
    monkeypatch.setattr(budgets_module, "instance_time_limit", lambda *a: 1.0)
    stuck = make_instance("stuck", "mysql")
    first = collect([stuck])
    assert first.records.get().status == RecordStatus.FAILED
    # A second run takes the (released) lock and saves fresh figures.
    monkeypatch.setattr(
        _BlockingEngine,
        "_list_database_sizes",
        lambda self: CollectResult(databases=[DatabaseSize(name="app", size_bytes=777, data_size_bytes=777)]),
    )
    second = collect([stuck])
    assert second.status == SessionStatus.COMPLETED
    blocking.release.set()
    time.sleep(1.0)
    assert list(DatabaseSizeStat.objects.filter(instance=stuck).values_list("size_bytes", flat=True)) == [777]
    assert InstanceSizeStat.objects.get(instance=stuck).total_size_bytes == 777


def test_an_attempt_that_lost_its_lock_saves_nothing(blocking, make_instance):
    inst = make_instance("owned", "mysql")
    session = create_session([inst])
    record = session.records.get()
    attempt = lifecycle.claim(record)
    assert attempt and acquire_instance_lock(inst.pk, attempt.token)
    Instance.objects.filter(pk=inst.pk).update(collection_lock=uuid.uuid4())  # someone took it over
    result = CollectResult(databases=[DatabaseSize(name="app", size_bytes=5, data_size_bytes=5)])
    with pytest.raises(collect_module.AttemptLost):
        collect_module.save_sizes(inst, result, attempt=attempt)
    assert not DatabaseSizeStat.objects.filter(instance=inst).exists()
    record.refresh_from_db()
    assert record.status == RecordStatus.RUNNING  # left to whoever gives up on it


def test_an_exception_taking_the_lock_settles_the_record(blocking, make_instance, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(attempts_module, "acquire_instance_lock", locked)
    instances = [make_instance(f"l{n}", "mysql") for n in range(3)]
    started = time.monotonic()
    session = collect(instances, concurrency=1)  # used to wait forever: the only thread died
    assert time.monotonic() - started < 10
    records = list(session.records.all())
    assert {r.status for r in records} == {RecordStatus.FAILED}
    assert all(r.error_kind == "data" and "database is locked" in r.error for r in records)
    assert session.status == SessionStatus.FAILED and session.failed_instances == 3


def test_an_exception_in_the_skip_path_settles_the_record(blocking, make_instance, monkeypatch):
    busy = make_instance("busy", "mysql")
    assert acquire_instance_lock(busy.pk, uuid.uuid4())

    def broken_skip(*args, **kwargs):
        raise OperationalError("too many clients already")

    monkeypatch.setattr(lifecycle, "skip", broken_skip)
    session = collect([busy], concurrency=1)
    record = session.records.get()
    assert record.status == RecordStatus.FAILED and "too many clients" in record.error
    assert session.status == SessionStatus.FAILED


def test_an_exception_in_the_failure_path_still_settles_the_record(blocking, make_instance, monkeypatch):
    inst = make_instance("erring", "mysql")

    def refused(self):
        raise EngineError("connection", "refused")

    monkeypatch.setattr(_BlockingEngine, "_list_database_sizes", refused)
    real_fail, calls = lifecycle.fail, []

    def flaky_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_fail(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "fail", flaky_fail)
    session = collect([inst], concurrency=1)
    record = session.records.get()
    assert record.status == RecordStatus.FAILED and record.error_kind == "data"
    assert "server closed the connection" in record.error


def test_a_run_where_every_instance_was_skipped_is_not_completed(blocking, make_instance):
    a, b = make_instance("held-a", "mysql"), make_instance("held-b", "mysql")
    other = uuid.uuid4()
    assert acquire_instance_lock(a.pk, other) and acquire_instance_lock(b.pk, other)
    session = collect([a, b])
    assert session.skipped_instances == 2 and session.status == SessionStatus.FAILED
    with pytest.raises(SystemExit) as exit_info:
        call_command("collect_sizes", "--instance", "held-a", "--instance", "held-b")
    assert exit_info.value.code == 1


def test_some_collected_is_partial_and_exits_one(blocking, make_instance):
    free, held = make_instance("free", "mysql"), make_instance("held", "mysql")
    assert acquire_instance_lock(held.pk, uuid.uuid4())
    session = collect([free, held])
    assert session.status == SessionStatus.PARTIAL
    with pytest.raises(SystemExit) as exit_info:
        call_command("collect_sizes", "--instance", "free", "--instance", "held")
    assert exit_info.value.code == 1
    call_command("collect_sizes", "--instance", "free")  # every selected one collected: exit 0


def test_the_session_is_finalised_exactly_once(blocking, make_instance, monkeypatch):
    announced = []
    monkeypatch.setattr(attempts_module, "_announce", lambda s: announced.append(s.pk))
    instances = [make_instance(f"f{n}", "mysql") for n in range(6)]
    session = create_session(instances)
    run_session(session, concurrency=3)
    assert announced == [session.pk]
    assert lifecycle.finalize_if_done(session.pk) is None  # a second closer finds nothing to do
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED and session.successful_instances == 6


def test_a_queued_task_that_gave_up_writes_nothing_when_its_driver_returns(blocking, make_instance, monkeypatch):
    monkeypatch.setattr(budgets_module, "instance_time_limit", lambda *a: 1.0)
    stuck = make_instance("stuck", "mysql")
    session = create_session([stuck], queued=True)
    record = session.records.get()
    assert collect_module.collect_queued_record(record.pk) == RecordStatus.FAILED
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED
    blocking.release.set()
    assert blocking.returned.wait(10)
    time.sleep(1.0)
    assert not DatabaseSizeStat.objects.filter(instance=stuck).exists()
    assert not InstanceSizeStat.objects.filter(instance=stuck).exists()
    record.refresh_from_db()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    stuck.refresh_from_db()
    assert stuck.collection_lock is None and stuck.last_sync_status == RecordStatus.FAILED
