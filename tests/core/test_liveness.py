"""Liveness, not age: heartbeats, the sweeper, a killed run, cancelling, the queued fan-out."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from capacity.services import attempts as attempts_module
from capacity.services import collect as collect_module
from capacity.services import fanout as fanout_module
from capacity.services.collect import (
    acquire_instance_lock,
    collect,
    collect_queued_record,
    create_session,
    start_queued_collection,
    sweep_collections,
)
from capacity.services.status import capacity_status
from instances.engines import CollectResult, DatabaseSize
from instances.engines.base import BaseEngine
from instances.models import Instance
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession
from tests.loopback import silent_server
from tests.platform import ROOT, platform_database_url

pytestmark = pytest.mark.django_db(transaction=True)


class _QuickEngine(BaseEngine):
    def _open(self):
        return self

    def close(self):
        self._conn = None

    def _server_version(self):
        return "quick"

    def _list_database_sizes(self):
        return CollectResult(databases=[DatabaseSize(name="app", size_bytes=64, data_size_bytes=64)])


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: _QuickEngine)


def _lost_attempt(instance, *, beat_age: float, queued=False):
    """A session whose worker claimed the instance, took its lock, then died `beat_age` seconds ago."""
    session = create_session([instance], queued=queued)
    record = session.records.get()
    attempt = lifecycle.claim(record)
    assert acquire_instance_lock(instance.pk, attempt.token)
    then = timezone.now() - timedelta(seconds=beat_age)
    SyncInstanceRecord.objects.filter(pk=record.pk).update(heartbeat_at=then)
    SyncSession.objects.filter(pk=session.pk).update(heartbeat_at=then)
    Instance.objects.filter(pk=instance.pk).update(collection_locked_at=then)
    return session, record


def test_the_sweeper_fails_a_lost_attempt_as_a_stopped_worker(quick, make_instance):
    inst = make_instance("lost", "mysql")
    session, record = _lost_attempt(inst, beat_age=lifecycle.stale_after() + 5)
    alive = make_instance("alive", "mysql")
    live_session, live_record = _lost_attempt(alive, beat_age=1)  # beating: left alone

    outcome = sweep_collections()
    assert outcome["failed_records"] == 1 and outcome["finalized_sessions"] == 1
    record.refresh_from_db()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    assert "worker" in record.error and "stopped" in record.error
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED and session.completed_at is not None
    inst.refresh_from_db()
    assert inst.collection_lock is None and inst.last_sync_error_kind == "timeout"
    live_record.refresh_from_db()
    assert live_record.status == RecordStatus.RUNNING
    live_session.refresh_from_db()
    assert live_session.status == SessionStatus.RUNNING


def test_the_next_run_settles_a_killed_run_and_collects_the_instance(quick, make_instance):
    inst = make_instance("killed", "mysql")
    dead, record = _lost_attempt(inst, beat_age=lifecycle.stale_after() + 1)
    session = collect([inst])  # not "skipped: another run is collecting it"
    assert session.status == SessionStatus.COMPLETED
    record.refresh_from_db()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    dead.refresh_from_db()
    assert dead.status == SessionStatus.FAILED


@override_settings(CAPACITY_HEARTBEAT_SECONDS=0.5)
def test_a_killed_collect_sizes_is_settled_within_seconds(make_instance, quick):
    with silent_server(lifetime=60) as port:
        silent = make_instance("silent", "postgresql", port=port, username="postgres")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.heartbeat_settings",
            "DATABASE_URL": platform_database_url(),
            "TEST_HEARTBEAT_SECONDS": "0.5",
            "CAPACITY_CONNECT_TIMEOUT": "60",
        }
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "collect_sizes", "--instance", "silent"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not SyncInstanceRecord.objects.filter(instance=silent, status=RecordStatus.RUNNING).exists():
                assert time.monotonic() < deadline and proc.poll() is None, "collect_sizes never started"
                time.sleep(0.2)
            time.sleep(1.5)  # a few beats
            record = SyncInstanceRecord.objects.get(instance=silent)
            assert record.heartbeat_at > record.started_at  # it beats while it waits on the driver
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        killed_at = time.monotonic()
        time.sleep(lifecycle.stale_after() + 0.5)
        other = make_instance("other", "mysql")
        collect([other])  # the next run of any kind settles the killed one
        assert time.monotonic() - killed_at < 30
    record.refresh_from_db()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    assert record.session.status != SessionStatus.RUNNING
    silent.refresh_from_db()
    assert silent.collection_lock is None


def test_queued_collection_puts_each_instance_on_the_broker(quick, make_instance, monkeypatch):
    queued = []
    real = fanout_module._dispatch

    def spy(records):
        queued.extend(r.pk for r in records)
        return real(records)

    monkeypatch.setattr(fanout_module, "_dispatch", spy)
    instances = [make_instance(f"q{n}", "mysql") for n in range(4)]
    session = start_queued_collection(instances, sync_type=SyncType.SCHEDULED)  # tests run tasks inline
    assert sorted(queued) == sorted(session.records.values_list("pk", flat=True))
    assert session.queued and session.status == SessionStatus.COMPLETED
    assert session.successful_instances == 4
    assert set(session.records.values_list("dispatch_count", flat=True)) == {1}


def test_a_late_duplicate_delivery_is_a_no_op(quick, make_instance):
    inst = make_instance("dup", "mysql")
    session = start_queued_collection([inst])
    record = session.records.get()
    before = (record.status, record.completed_at, record.attempt)
    assert collect_queued_record(record.pk) == "already settled"
    record.refresh_from_db()
    assert (record.status, record.completed_at, record.attempt) == before
    session.refresh_from_db()
    assert session.successful_instances == 1


def test_tasks_lost_with_a_killed_cluster_are_queued_again_then_given_up(quick, make_instance, monkeypatch):
    inst = make_instance("prefetched", "mysql")
    monkeypatch.setattr(fanout_module, "_dispatch", lambda records: len(records))  # "lost" on the way
    session = start_queued_collection([inst])
    assert session.status == SessionStatus.RUNNING
    monkeypatch.undo()
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: _QuickEngine)
    long_ago = timezone.now() - timedelta(seconds=lifecycle.stale_after() + 5)
    SyncInstanceRecord.objects.filter(session=session).update(dispatched_at=long_ago, dispatch_count=1)
    outcome = sweep_collections()
    assert outcome["requeued_records"] == 1  # queued again (and, tests running tasks inline, collected)
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED

    again = create_session([inst], queued=True)
    SyncInstanceRecord.objects.filter(session=again).update(
        dispatched_at=long_ago, dispatch_count=collect_module.MAX_DISPATCHES
    )
    sweep_collections()
    again.refresh_from_db()
    record = again.records.get()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    assert again.status == SessionStatus.FAILED


def test_cancel_skips_pending_records_and_lets_running_ones_finish(quick, make_instance):
    a, b = make_instance("ca", "mysql"), make_instance("cb", "mysql")
    session = create_session([a, b], queued=True)
    running = session.records.get(instance=a)
    attempt = lifecycle.claim(running)
    assert lifecycle.cancel_session(session) == 1
    assert session.records.get(instance=b).status == RecordStatus.SKIPPED
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING and session.cancelled_at is not None
    assert acquire_instance_lock(a.pk, attempt.token)
    attempts_module.perform(running, attempt)  # the running one finishes
    collect_module.finalize_session(session)
    session.refresh_from_db()
    assert session.status == SessionStatus.PARTIAL
    assert session.successful_instances == 1 and session.skipped_instances == 1


def test_cancel_through_the_api(quick, make_instance, django_user_model):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    inst = make_instance("api-cancel", "mysql")
    session = create_session([inst], queued=True)
    viewer = django_user_model.objects.create_user("viewer", password="pw")
    viewer.user_permissions.set(Permission.objects.filter(codename="view_syncsession"))
    operator = django_user_model.objects.create_user("operator", password="pw")
    operator.user_permissions.set(Permission.objects.filter(codename__in=["view_syncsession", "sync_capacity"]))
    client = APIClient()
    url = f"/api/sync-sessions/{session.session_id}/cancel/"
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    client.force_login(operator)
    response = client.post(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == SessionStatus.FAILED and body["cancelled_at"]
    assert body["records"][0]["status"] == RecordStatus.SKIPPED and "operator" in body["records"][0]["error"]
    again = client.post(url)
    assert again.status_code == 409 and "already over" in again.json()["detail"]


def test_status_warns_when_work_is_queued_but_no_cluster_runs(quick, make_instance):
    inst = make_instance("waiting", "mysql")
    session = create_session([inst], queued=True)
    before = list(SyncInstanceRecord.objects.values_list("pk", "status", "heartbeat_at"))
    queue = capacity_status()["task_queue"]
    assert queue["pending_instances"] == 1 and queue["cluster_running"] is False
    assert "no task cluster is running" in queue["warning"]
    # Reads never write.
    assert list(SyncInstanceRecord.objects.values_list("pk", "status", "heartbeat_at")) == before
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING

    from django_q.models import Schedule

    from capacity import schedules

    Schedule.objects.filter(name=schedules.SWEEPER).update(  # as the scheduler leaves it when it fires
        next_run=timezone.now() + timedelta(seconds=30), task="a-task-id"
    )
    queue = capacity_status()["task_queue"]
    assert queue["cluster_running"] is True and queue["warning"] is None


def test_a_lock_held_by_a_live_attempt_is_not_taken_over(quick, make_instance):
    inst = make_instance("held-live", "mysql")
    assert acquire_instance_lock(inst.pk, uuid.uuid4())
    session = collect([inst])
    assert session.records.get().status == RecordStatus.SKIPPED


def test_the_admin_bulk_action_queues_and_links_to_the_session(quick, make_instance, admin_client):
    instances = [make_instance(f"bulk{n}", "mysql") for n in range(3)]
    response = admin_client.post(
        "/admin/instances/instance/",
        {"action": "action_sync_capacity", "_selected_action": [i.pk for i in instances]},
        follow=True,
    )
    assert response.status_code == 200
    session = SyncSession.objects.get()
    assert session.queued and session.total_instances == 3
    text = response.content.decode()
    assert "3 instances queued for collection." in text
    assert f"/admin/sync_sessions/syncsession/{session.pk}/change/" in text
    assert session.records.filter(status=RecordStatus.COMPLETED).count() == 3  # tests run tasks inline


def test_the_admin_cancel_action(quick, make_instance, admin_client):
    session = create_session([make_instance("to-cancel", "mysql")], queued=True)
    response = admin_client.post(
        "/admin/sync_sessions/syncsession/",
        {"action": "action_cancel", "_selected_action": [session.pk]},
        follow=True,
    )
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.cancelled_at is not None and session.status == SessionStatus.FAILED
    assert session.records.get().status == RecordStatus.SKIPPED
