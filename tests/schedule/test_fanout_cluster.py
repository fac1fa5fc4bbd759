"""Two real qcluster processes on Redis share one queued run; one is SIGKILLed mid-run.

The fleet is a dozen instances on the local MariaDB behind the latency proxy (bench/), so each
collection takes a couple of seconds and the kill lands while work is in flight: some records
running in the killed cluster, some prefetched by it (the Redis broker has no receipts, so both
are lost with it). The sweeper (run here every few seconds, as the schedule runs it every minute)
fails the running ones as stopped workers and queues the lost ones again; the surviving cluster
collects them. Every record ends settled exactly once, and nothing of a killed attempt is saved.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from capacity.models import DatabaseSizeStat, InstanceSizeStat
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SessionStatus
from sync_sessions.models import SyncSession
from tests.platform import ROOT, platform_database_url

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FLEET = 12
DELAY_MS = 120  # one way, per chunk: a MariaDB collection is ~10 hops, about 2.5 s
LIMIT = 150  # seconds for the whole run, the kill and the sweeps


def _env(queue_name: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.heartbeat_settings",
        "DATABASE_URL": platform_database_url(),
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "TEST_Q_NAME": queue_name,
        "TEST_HEARTBEAT_SECONDS": "0.5",
        "Q_WORKERS": "2",
    }
    env.pop("Q_SYNC", None)
    return env


def _shell(env: dict, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _cluster(env: dict, log):
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches every worker
    )


def _kill(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_two_clusters_share_a_run_and_a_killed_one_loses_and_duplicates_nothing(mysql_box, mysql_instance):
    mysql_box.create_database("fan", rows=50)
    proxy = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "latency_proxy.py"),
            "--delay-ms",
            str(DELAY_MS),
            f"127.0.0.1:{mysql_box.port}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = json.loads(proxy.stdout.readline())["ports"][0]
    for n in range(FLEET):
        Instance.objects.create(
            name=f"fan-{n:02d}", db_type="mysql", host="127.0.0.1", port=port, credential=mysql_instance.credential
        )
    mysql_instance.is_active = False
    mysql_instance.save()

    env = _env(f"capacity-test-{secrets.token_hex(4)}")
    with tempfile.TemporaryFile("w+") as log_a, tempfile.TemporaryFile("w+") as log_b:
        a, b = _cluster(env, log_a), _cluster(env, log_b)
        try:
            session_pk = int(
                _shell(
                    env,
                    "from capacity.services.collect import start_queued_collection as start\n"
                    "from instances.models import Instance\n"
                    "print(start(Instance.objects.filter(name__startswith='fan-')).pk)",
                )
            )
            session = SyncSession.objects.get(pk=session_pk)
            deadline = time.monotonic() + LIMIT
            # Kill cluster A once work is under way on both sides.
            while session.records.filter(status=RecordStatus.COMPLETED).count() < 3:
                assert time.monotonic() < deadline and a.poll() is None and b.poll() is None, "no progress"
                time.sleep(0.3)
            assert session.records.filter(status=RecordStatus.RUNNING).exists()
            _kill(a)

            while SyncSession.objects.get(pk=session_pk).status == SessionStatus.RUNNING:
                if time.monotonic() > deadline:
                    log_b.seek(0)
                    pytest.fail("the session never settled; surviving cluster:\n" + log_b.read()[-4000:])
                _shell(env, "from capacity.tasks import sweep_collections; print(sweep_collections())")
                time.sleep(2)
        finally:
            _kill(a)
            _kill(b)
            proxy.stdin.close()
            proxy.wait(10)

    session = SyncSession.objects.get(pk=session_pk)
    records = list(session.records.all())
    assert len(records) == FLEET
    assert all(r.status in (RecordStatus.COMPLETED, RecordStatus.FAILED) for r in records)
    assert session.successful_instances + session.failed_instances == FLEET
    completed = [r for r in records if r.status == RecordStatus.COMPLETED]
    failed = [r for r in records if r.status == RecordStatus.FAILED]
    # At most one attempt per worker of the killed cluster was running; the rest are collected.
    assert len(failed) <= 2 and len(completed) >= FLEET - 2
    for r in failed:
        assert r.error_kind == "timeout" and "stopped" in r.error
        assert not InstanceSizeStat.objects.filter(instance_id=r.instance_id).exists()
    for r in completed:
        assert InstanceSizeStat.objects.filter(instance_id=r.instance_id).count() == 1
        assert DatabaseSizeStat.objects.filter(instance_id=r.instance_id).count() == r.databases_count
    assert not Instance.objects.filter(collection_lock__isnull=False).exists()
