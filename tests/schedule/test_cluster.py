"""Once through a real django-q2 cluster: `manage.py qcluster` in a subprocess on the test database.

The cluster uses the ORM broker on the same database the test writes to (a file for SQLite, the
test database for PostgreSQL), so it sees the queued task and the schedule made due here. It
runs one queued collection and, when its scheduler wakes (about 30 seconds in), the nightly one.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from capacity import schedules
from capacity.models import DatabaseSizeStat
from capacity.services.collect import create_session
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncSession
from tests.platform import platform_database_url

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
QUEUED_LIMIT = 90  # seconds for the cluster to start and finish the queued collection
SCHEDULED_LIMIT = 120  # the scheduler first looks at its schedules ~30 s after start


def _wait(what: str, check, limit: float, proc, log):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    log.seek(0)
    pytest.fail(f"{what} did not happen within {limit:.0f} s; cluster output:\n{log.read()[-4000:]}")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the cluster's own process group, started below
            proc.wait(timeout=10)


def test_real_cluster_runs_a_queued_and_the_scheduled_collection(pg_box, pg_instance):
    database = pg_box.create_database("cluster", rows=10)
    session = create_session([pg_instance], sync_type=SyncType.MANUAL)
    Schedule.objects.filter(name=schedules.COLLECTION).update(next_run=timezone.now() - timedelta(seconds=1))

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "capacity_site.settings",
        "DATABASE_URL": platform_database_url(),
        "Q_WORKERS": "2",
        "LOG_LEVEL": "INFO",
    }
    for name in ("REDIS_URL", "Q_SYNC"):  # the ORM broker on this database, really asynchronous
        env.pop(name, None)

    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            task_id = async_task(
                "capacity.tasks.run_collection_session",
                str(session.session_id),
                sync=False,
                broker=ORM(list_key=Conf.CLUSTER_NAME),
            )
            _wait(
                "the queued collection",
                lambda: SyncSession.objects.filter(pk=session.pk).exclude(status=SessionStatus.RUNNING).exists(),
                QUEUED_LIMIT,
                proc,
                log,
            )
            session.refresh_from_db()
            record = session.records.get()
            assert session.status == SessionStatus.COMPLETED, record.error
            assert record.status == RecordStatus.COMPLETED and record.databases_count >= 1
            assert DatabaseSizeStat.objects.filter(instance=pg_instance, database_name=database).exists()
            _wait(
                "the task result",
                lambda: Task.objects.filter(id=task_id, success=True).exists(),
                30,
                proc,
                log,
            )

            nightly = _wait(
                "the scheduled collection",
                lambda: (
                    SyncSession.objects.filter(sync_type=SyncType.SCHEDULED)
                    .exclude(status=SessionStatus.RUNNING)
                    .first()
                ),
                SCHEDULED_LIMIT,
                proc,
                log,
            )
            assert nightly.status == SessionStatus.COMPLETED
            assert nightly.records.get().instance_id == pg_instance.pk
            schedule = Schedule.objects.get(name=schedules.COLLECTION)
            assert schedule.next_run > timezone.now() and schedule.task
        finally:
            _stop(proc)
    assert proc.returncode is not None
