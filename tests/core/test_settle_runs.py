"""manage.py settle_runs: what a stopped platform was collecting fails at once as interrupted."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from capacity.services.collect import create_session
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SessionStatus
from sync_sessions.models import SyncSession

pytestmark = pytest.mark.django_db


def test_settles_runs_started_since_and_releases_their_locks(make_instance):
    done, busy, queued = make_instance("done", "mysql"), make_instance("busy", "mysql"), make_instance("q", "mysql")
    session = create_session([done, busy, queued])
    session.records.filter(instance=done).update(status=RecordStatus.COMPLETED, databases_count=2)
    session.records.filter(instance=busy).update(status=RecordStatus.RUNNING)
    Instance.objects.filter(pk=busy.pk).update(collection_lock=session.session_id, collection_locked_at=timezone.now())
    earlier = create_session([done])  # started before the stopped processes: not theirs
    SyncSession.objects.filter(pk=earlier.pk).update(started_at=timezone.now() - timedelta(hours=1))
    since = int((timezone.now() - timedelta(minutes=1)).timestamp())

    out = StringIO()
    call_command("settle_runs", "--started-since", str(since), stdout=out)

    assert out.getvalue().strip() == "1 interrupted run settled."
    session.refresh_from_db()
    assert session.status == SessionStatus.PARTIAL and session.completed_at is not None
    assert (session.successful_instances, session.failed_instances) == (1, 2)
    for instance in (busy, queued):
        record = session.records.get(instance=instance)
        assert (record.status, record.error_kind) == (RecordStatus.FAILED, "timeout")
        assert record.error == "Interrupted: the platform was stopped."
    busy.refresh_from_db()
    assert busy.collection_lock is None and busy.last_sync_error_kind == "timeout"
    earlier.refresh_from_db()
    assert earlier.status == SessionStatus.RUNNING


def test_nothing_running_prints_nothing():
    out = StringIO()
    call_command("settle_runs", stdout=out)
    assert out.getvalue() == ""


def test_a_malformed_time_is_refused_with_exit_2():
    with pytest.raises(CommandError, match="seconds since the epoch") as raised:
        call_command("settle_runs", "--started-since", "yesterday")
    assert raised.value.returncode == 2
