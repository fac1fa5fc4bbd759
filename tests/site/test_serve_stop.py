"""scripts/serve.sh (what scripts/run.sh ends in) stops within seconds on SIGTERM or Ctrl-C.

The script runs for real in a subprocess on a free port against the test database: the web
server must answer, then one SIGTERM to the script's pid (or Ctrl-C's SIGINT to its group) must
end the script, gunicorn and the task cluster with every process they forked, and a collection
that was running must be settled as an interrupted attempt. The bound is generous: this is a
behaviour test, not a speed target.
"""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from capacity.services.collect import create_session
from sync_sessions.choices import RecordStatus, SessionStatus
from tests.platform import platform_database_url

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
START_LIMIT = 90  # seconds for gunicorn and the cluster to come up on a busy machine
STOP_LIMIT = 20  # the script's own bounds add up to about 8 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _log(log) -> str:
    log.seek(0)
    return log.read()[-4000:]


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda pid: os.kill(pid, signal.SIGTERM), id="kill-pid"),
        # Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
        pytest.param(lambda pid: os.killpg(pid, signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda pid: os.kill(pid, signal.SIGHUP), id="terminal-closed"),
    ],
)
def test_a_stop_ends_web_and_cluster_within_seconds_and_settles_the_running_collection(send, make_instance):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "capacity_site.settings",
        "DATABASE_URL": platform_database_url(),
        "SECRET_KEY": "serve-stop-test-" + "x" * 40,
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "Q_WORKERS": "1",
    }
    for name in ("REDIS_URL", "Q_SYNC", "DEBUG"):
        env.pop(name, None)

    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        groups = [proc.pid]
        try:
            deadline = time.monotonic() + START_LIMIT
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5) as response:
                        assert response.status == 200
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the web server did not answer on port {port}; output:\n{_log(log)}")
                    time.sleep(0.5)
            pids = re.search(r"web pid (\d+), scheduler pid (\d+)", _log(log))
            assert pids, _log(log)
            groups += [int(pids.group(1)), int(pids.group(2))]  # each server leads its own group

            # A collection the cluster is in the middle of when the platform stops.
            running = create_session([make_instance("busy", "mysql")])
            running.records.update(status=RecordStatus.RUNNING)

            send(proc.pid)
            stopped_at = time.monotonic()
            proc.wait(timeout=STOP_LIMIT)
            while any(_alive(g) for g in groups) and time.monotonic() - stopped_at < STOP_LIMIT:
                time.sleep(0.1)
            elapsed = time.monotonic() - stopped_at
            assert not [g for g in groups if _alive(g)], f"processes left after {elapsed:.1f} s:\n{_log(log)}"
            assert elapsed < STOP_LIMIT
            assert proc.returncode in (128 + signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGHUP)
            output = _log(log)
            assert "Perhaps out of memory" not in output
            assert "1 interrupted run settled." in output, output
        finally:
            for group in groups:
                if _alive(group):
                    os.killpg(group, signal.SIGKILL)
            proc.wait(timeout=10)

    running.refresh_from_db()
    assert running.status == SessionStatus.FAILED and running.completed_at is not None
    record = running.records.get()
    assert record.status == RecordStatus.FAILED and record.error_kind == "timeout"
    assert record.error == "Interrupted: the platform was stopped."
    record.instance.refresh_from_db()
    assert record.instance.last_sync_error_kind == "timeout"
