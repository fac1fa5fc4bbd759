import pytest
from django.core.exceptions import ValidationError

from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields, field_in_error",
    [
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"host": "bad host!"}, "host"),
        ({"host": ""}, "host"),
        ({"db_type": "db2"}, "db_type"),
        ({"db_type": "oracle", "options": {}}, "options"),
        ({"options": ["not", "an", "object"]}, "options"),
    ],
)
def test_instance_validation_names_the_field(fields, field_in_error):
    data = {"name": "x", "db_type": "mysql", "host": "db1.example.com", "port": 3306, "options": {}} | fields
    with pytest.raises(ValidationError) as exc:
        Instance(**data).full_clean()
    assert field_in_error in exc.value.message_dict


@pytest.mark.parametrize("host", ["db1", "db-1.corp.example", "10.0.0.5", "::1", "[fe80::1]"])
def test_valid_hosts(host):
    Instance(name="x", db_type="mysql", host=host).full_clean()


def test_default_port_per_engine():
    assert Instance(db_type="postgresql").effective_port == 5432
    assert Instance(db_type="sqlserver").effective_port == 1433
    assert Instance(db_type="oracle", port=1600).effective_port == 1600
