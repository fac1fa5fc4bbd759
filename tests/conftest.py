import pytest

from tests import servers


@pytest.fixture
def mysql_box():
    """A MariaDB sandbox: create databases and logins with a unique prefix; all dropped after."""
    box = servers.mysql_sandbox()
    yield box
    box.cleanup()


@pytest.fixture
def pg_box():
    """A PostgreSQL sandbox: create databases and logins with a unique prefix; all dropped after."""
    box = servers.postgres_sandbox()
    yield box
    box.cleanup()


@pytest.fixture
def make_instance(db):
    """Make an Instance (with a Credential approved for it) pointing at a server."""
    from instances import binding
    from instances.models import Credential, Instance

    def make(name, db_type, host="127.0.0.1", port=None, username="root", password="", **fields):
        credential = Credential(name=f"cred-{name}", username=username)
        credential.set_password(password)
        credential.save()
        instance = Instance.objects.create(
            name=name, db_type=db_type, host=host, port=port, credential=credential, **fields
        )
        # As a credential manager would: its stored password may be sent to this server.
        binding.approve(instance, note="test fixture")
        return instance

    return make


@pytest.fixture(autouse=True)
def _approve_targets_of_orm_instances(request):
    """Approve the credential of every instance a test saves through the ORM, as the admin would.

    Most tests build instances with `Instance.objects.create` and are about something else than
    the credential binding. Tests of the binding itself are marked `strict_targets`: for them
    nothing is approved behind their back (tests/security).
    """
    if request.node.get_closest_marker("strict_targets"):
        yield
        return
    from django.db.models.signals import post_save

    from instances import binding
    from instances.models import Instance

    def approve(sender, instance, raw=False, **kwargs):
        if not raw and instance.credential_id is not None:
            binding.approve(instance, note="test: saved through the ORM")

    post_save.connect(approve, sender=Instance, weak=False, dispatch_uid="tests-approve-orm-targets")
    try:
        yield
    finally:
        post_save.disconnect(sender=Instance, dispatch_uid="tests-approve-orm-targets")


@pytest.fixture
def mysql_instance(mysql_box, make_instance):
    """An instance on the local MariaDB through a login that sees only this test's sandbox databases."""
    user, password = mysql_box.create_login()
    return make_instance(f"maria-{mysql_box.prefix}", "mysql", port=mysql_box.port, username=user, password=password)


@pytest.fixture
def pg_instance(pg_box, make_instance):
    user, password = pg_box.create_login()
    return make_instance(f"pg-{pg_box.prefix}", "postgresql", port=pg_box.port, username=user, password=password)


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup, django_db_blocker):
    """On PostgreSQL, end sessions left on the test database so it can be dropped at the end.

    Subprocesses (qcluster, manage.py) and stuck collector threads may still hold one.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()
