"""The one "sync one instance / test its connection and report" services every screen answers from."""

import pytest

from capacity.services.sync_one import SyncOutcome, sync_instance
from instances.models import CredentialTarget, Instance
from instances.services import ConnectionOutcome, check_connection
from sync_sessions.models import SyncSession

pytestmark = pytest.mark.django_db(transaction=True)


def test_refusals_open_no_session(make_instance):
    asleep = make_instance("asleep", "mysql", port=1, is_active=False)
    lonely = Instance.objects.create(name="lonely", db_type="mysql", host="127.0.0.1", port=1)
    moved = make_instance("moved", "mysql", port=1)
    CredentialTarget.objects.filter(credential=moved.credential).delete()  # no longer approved

    outcomes = {i.name: sync_instance(i) for i in (asleep, lonely, moved)}
    assert outcomes["asleep"].status == SyncOutcome.INACTIVE and "asleep" in outcomes["asleep"].message
    assert (outcomes["lonely"].status, outcomes["lonely"].kind) == (SyncOutcome.NO_CREDENTIAL, "auth")
    assert (outcomes["moved"].status, outcomes["moved"].kind) == (SyncOutcome.DENIED, "permission")
    assert "instances.change_credential" in outcomes["moved"].message
    assert all(o.session is None and not o.success for o in outcomes.values())
    assert not SyncSession.objects.exists()


def test_a_failed_collection_is_reported_with_its_session(make_instance, django_user_model):
    operator = django_user_model.objects.create_user("operator")
    inst = make_instance("nobody-home", "mysql", port=1)
    outcome = sync_instance(inst, operator)
    assert outcome.status == SyncOutcome.FAILED and outcome.kind == "connection"
    assert outcome.summary.startswith("nobody-home: collection failed [")
    assert outcome.session.created_by == operator and outcome.record.error == outcome.message


def test_connection_refusals_send_nothing(make_instance):
    lonely = Instance.objects.create(name="lonely", db_type="postgresql", host="127.0.0.1", port=1)
    moved = make_instance("moved", "postgresql", port=1)
    CredentialTarget.objects.filter(credential=moved.credential).delete()
    assert check_connection(lonely).status == ConnectionOutcome.NO_CREDENTIAL
    denied = check_connection(moved)
    assert (denied.status, denied.kind, denied.result.elapsed_ms) == (ConnectionOutcome.DENIED, "permission", 0)
    assert denied.summary.startswith("moved: connection failed [")


def test_a_refused_connection_is_failed(make_instance):
    outcome = check_connection(make_instance("nobody-home", "mysql", port=1))
    assert outcome.status == ConnectionOutcome.FAILED and outcome.kind == "connection" and not outcome.success
