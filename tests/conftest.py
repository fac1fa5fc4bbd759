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
    """Make an Instance (with a Credential) pointing at a server."""
    from instances.models import Credential, Instance

    def make(name, db_type, host="127.0.0.1", port=None, username="root", password="", **fields):
        credential = Credential(name=f"cred-{name}", username=username)
        credential.set_password(password)
        credential.save()
        return Instance.objects.create(
            name=name, db_type=db_type, host=host, port=port, credential=credential, **fields
        )

    return make


@pytest.fixture
def mysql_instance(mysql_box, make_instance):
    """An instance on the local MariaDB through a login that sees only this test's sandbox databases."""
    user, password = mysql_box.create_login()
    return make_instance(f"maria-{mysql_box.prefix}", "mysql", port=mysql_box.port, username=user, password=password)


@pytest.fixture
def pg_instance(pg_box, make_instance):
    user, password = pg_box.create_login()
    return make_instance(f"pg-{pg_box.prefix}", "postgresql", port=pg_box.port, username=user, password=password)
