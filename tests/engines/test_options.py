"""Engine options: a typed allowlist per engine, checked on save (model, API) and again on connect;
no option names a file outside CAPACITY_CERTS_DIR, a library or a dump; ODBC values are braced."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from rest_framework.test import APIClient

from instances.engines import ConnectionParams, EngineError, engine_class
from instances.engines.options import ALLOWED, validate_options
from instances.models import Credential, Instance
from tests.loopback import closed_port

DRIVERS = "pyodbc.drivers"
INSTALLED = ["ODBC Driver 18 for SQL Server", "FreeTDS"]
CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"


@pytest.fixture(autouse=True)
def installed_drivers():
    with mock.patch(DRIVERS, return_value=INSTALLED):
        yield


def problems(db_type, options) -> list[str]:
    with pytest.raises(ValidationError) as info:
        validate_options(db_type, options)
    return info.value.message_dict["options"]


# --- the allowlist --------------------------------------------------------------------------------


def test_every_engine_declares_exactly_the_options_in_use():
    assert {db_type: set(keys) for db_type, keys in ALLOWED.items()} == {
        "postgresql": {"database", "sslmode", "sslrootcert", "sslcert", "sslkey"},
        "mysql": {"ssl", "ssl_mode"},
        "sqlserver": {"database", "encrypt", "trust_server_certificate", "odbc_driver", "tds_version"},
        "oracle": {"service_name", "sid", "protocol"},
    }


@pytest.mark.parametrize(
    ("db_type", "options", "expected"),
    [
        ("postgresql", {"database": "app", "sslmode": "VERIFY-FULL"}, {"database": "app", "sslmode": "verify-full"}),
        ("mysql", {"ssl": True, "ssl_mode": "verify_identity"}, {"ssl": True, "ssl_mode": "VERIFY_IDENTITY"}),
        ("mysql", {"ssl": {"cipher": "ECDHE-RSA-AES128-GCM-SHA256"}}, {"ssl": {"cipher": CIPHER}}),
        (
            "sqlserver",
            {"odbc_driver": "FreeTDS", "tds_version": 7.4, "encrypt": "Strict", "trust_server_certificate": False},
            {"odbc_driver": "FreeTDS", "tds_version": "7.4", "encrypt": "strict", "trust_server_certificate": False},
        ),
        ("sqlserver", {"encrypt": True, "database": "Sales DB; 2024"}, {"encrypt": True, "database": "Sales DB; 2024"}),
        ("oracle", {"service_name": "pdb1.example.com", "protocol": "TCPS"}, {"service_name": "pdb1.example.com",
                                                                             "protocol": "tcps"}),
        ("oracle", {"sid": "ORCL", "service_name": None}, {"sid": "ORCL"}),
        ("postgresql", {"database": ""}, {}),
    ],
)  # fmt: skip
def test_valid_options_are_kept_and_normalised(db_type, options, expected):
    assert validate_options(db_type, options) == expected


@pytest.mark.parametrize(
    ("db_type", "options", "message"),
    [
        ("sqlserver", {"tds_version": "7.4;DUMPFILE=/tmp/x"}, "options.tds_version: must not contain ';' '='."),
        ("sqlserver", {"tds_version": "9.9"}, "options.tds_version: must be a TDS protocol version"),
        ("sqlserver", {"tds_version": "auto"}, "options.tds_version: must be a TDS protocol version"),
        ("sqlserver", {"odbc_driver": "/tmp/evil.so"}, "options.odbc_driver: must not contain '/'."),
        ("sqlserver", {"odbc_driver": "tdsodbc.so"}, "options.odbc_driver: ODBC driver tdsodbc.so is not installed"),
        ("sqlserver", {"odbc_driver": "FreeTDS;DumpFile=x"}, "options.odbc_driver: must not contain ';' '='."),
        ("sqlserver", {"encrypt": "yes;DumpFile=/tmp/x"}, "options.encrypt: must be one of yes, no, strict."),
        ("sqlserver", {"trust_server_certificate": "yes"}, "options.trust_server_certificate: must be true or false."),
        ("sqlserver", {"database": "x}"}, "options.database: must not contain '}'."),
        ("sqlserver", {"database": "a\nb"}, "options.database: must not contain control characters."),
        ("sqlserver", {"DumpFile": "/tmp/x"}, "options.DumpFile: is not an allowed option for SQL Server"),
        ("postgresql", {"database": "x sslkey=/etc/shadow"}, "options.database: must not contain '='."),
        ("postgresql", {"database": "postgresql://evil/db"}, "options.database: must be a database name, not a URI."),
        ("postgresql", {"sslmode": "sometimes"}, "options.sslmode: must be one of disable, allow, prefer"),
        ("postgresql", {"sslkey": "client.key"}, "options.sslkey: file options are disabled: set CAPACITY_CERTS_DIR"),
        ("postgresql", {"passfile": "/tmp/x"}, "options.passfile: is not an allowed option for PostgreSQL"),
        ("mysql", {"ssl": {"ca": "/etc/ssl/certs/ca.pem"}}, "options.ssl.ca: file options are disabled"),
        ("mysql", {"ssl": {"key_file": "x"}}, "options.ssl.key_file: is not an allowed key"),
        ("mysql", {"ssl": "yes"}, "options.ssl: must be true, false or an object"),
        ("mysql", {"ssl": True, "ssl_mode": "DISABLED"}, "options.ssl_mode: DISABLED contradicts options.ssl."),
        ("mysql", {"init_command": "SET x=1"}, "options.init_command: is not an allowed option for MySQL / MariaDB"),
        ("oracle", {"service_name": "x)(ADDRESS=(HOST=evil))"}, "options.service_name: must not contain"),
        ("oracle", {"sid": "1ORCL"}, "options.sid: must be a SID"),
        ("oracle", {"protocol": "beq"}, "options.protocol: must be one of tcp, tcps."),
        ("oracle", {"service_name": 5}, "options.service_name: must be a string."),
        ("oracle", {"service_name": "x" * 300}, "options.service_name: is longer than 255 characters."),
    ],
)  # fmt: skip
def test_invalid_options_are_refused_naming_the_field(db_type, options, message):
    found = problems(db_type, options)
    assert any(m.startswith(message) for m in found), found


def test_not_an_object_is_refused():
    with pytest.raises(ValidationError) as info:
        validate_options("mysql", ["ssl"])
    assert info.value.message_dict == {"options": ["options: must be a JSON object."]}


def test_every_problem_is_reported_at_once():
    found = problems("sqlserver", {"tds_version": "x", "odbc_driver": "/x", "nope": 1})
    assert [m.split(":")[0] for m in found] == ["options.tds_version", "options.odbc_driver", "options.nope"]


# --- certificate files ----------------------------------------------------------------------------


@pytest.fixture
def certs(tmp_path):
    directory = tmp_path / "certs"
    (directory / "pg").mkdir(parents=True)
    (directory / "pg" / "root.crt").write_text("cert")
    (directory / "mysql-ca").mkdir()
    outside = tmp_path / "outside.pem"
    outside.write_text("secret")
    (directory / "link.pem").symlink_to(outside)
    with override_settings(CAPACITY_CERTS_DIR=str(directory)):
        yield directory


def test_certificate_files_inside_the_directory_are_accepted(certs):
    assert validate_options("postgresql", {"sslrootcert": "pg/root.crt"}) == {"sslrootcert": "pg/root.crt"}
    absolute = str(certs / "pg" / "root.crt")
    assert validate_options("mysql", {"ssl": {"ca": absolute, "capath": "mysql-ca"}}) == {
        "ssl": {"ca": absolute, "capath": "mysql-ca"}
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sslrootcert": "../outside.pem"}, "options.sslrootcert: must name a file inside CAPACITY_CERTS_DIR."),
        ({"sslrootcert": "/etc/passwd"}, "options.sslrootcert: must name a file inside CAPACITY_CERTS_DIR."),
        ({"sslcert": "link.pem"}, "options.sslcert: must name a file inside CAPACITY_CERTS_DIR."),
        ({"sslkey": "pg/missing.key"}, "options.sslkey: names no file inside CAPACITY_CERTS_DIR."),
        ({"sslkey": "pg"}, "options.sslkey: names no file inside CAPACITY_CERTS_DIR."),
    ],
)
def test_certificate_files_outside_the_directory_are_refused(certs, options, message):
    assert problems("postgresql", options) == [message]


def test_mysql_ssl_files_outside_the_directory_are_refused(certs):
    found = problems("mysql", {"ssl": {"ca": "/etc/passwd", "key": "../outside.pem", "capath": "pg/root.crt"}})
    assert found == [
        "options.ssl.ca: must name a file inside CAPACITY_CERTS_DIR.",
        "options.ssl.key: must name a file inside CAPACITY_CERTS_DIR.",
        "options.ssl.capath: names no directory inside CAPACITY_CERTS_DIR.",
    ]


def test_mysql_ssl_reaches_the_driver_with_resolved_paths_only(certs):
    engine = engine_class("mysql")(
        ConnectionParams("127.0.0.1", closed_port(), "u", "p", options={"ssl": {"ca": "pg/root.crt"}})
    )
    with mock.patch("instances.engines.mysql.MySQLdb.connect", side_effect=OSError("stop")) as connect:
        with pytest.raises(EngineError):
            engine.connect()
    assert connect.call_args.kwargs["ssl"] == {"ca": str(certs / "pg" / "root.crt")}
    assert connect.call_args.kwargs["ssl_mode"] == "REQUIRED"


def test_a_mysql_ssl_path_stored_without_checks_never_reaches_the_driver(certs):
    engine = engine_class("mysql")(
        ConnectionParams("127.0.0.1", closed_port(), "u", "p", options={"ssl": {"ca": "/etc/passwd"}})
    )
    with mock.patch("instances.engines.mysql.MySQLdb.connect") as connect, pytest.raises(EngineError) as info:
        engine.connect()
    connect.assert_not_called()
    assert info.value.kind == "unsupported"
    assert "options.ssl.ca: must name a file inside CAPACITY_CERTS_DIR" in info.value.message


def test_postgres_certificate_options_reach_libpq_resolved(certs):
    engine = engine_class("postgresql")(
        ConnectionParams(
            "127.0.0.1", closed_port(), "u", "p", options={"sslmode": "verify-ca", "sslrootcert": "pg/root.crt"}
        )
    )
    with mock.patch("instances.engines.postgresql.psycopg.connect", side_effect=OSError("stop")) as connect:
        with pytest.raises(EngineError):
            engine.connect()
    assert connect.call_args.kwargs["sslrootcert"] == str(certs / "pg" / "root.crt")
    assert connect.call_args.kwargs["sslmode"] == "verify-ca"


# --- on save: the model and the API ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_refuses_invalid_options_on_clean():
    instance = Instance(
        name="mssql", db_type="sqlserver", host="db.example.net", options={"tds_version": "7.4;DUMPFILE=/tmp/x"}
    )
    with pytest.raises(ValidationError) as info:
        instance.full_clean()
    assert info.value.message_dict["options"] == ["options.tds_version: must not contain ';' '='."]


@pytest.mark.django_db
def test_the_api_answers_400_naming_the_option(django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.net", "pw")
    client = APIClient()
    client.force_authenticate(user)
    credential = Credential.objects.create(name="sa", username="sa")
    body = {"name": "mssql", "db_type": "sqlserver", "host": "db.example.net", "credential": credential.pk}
    response = client.post(
        "/api/instances/", {**body, "options": {"tds_version": "7.4;DUMPFILE=/tmp/x"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["options"] == ["options.tds_version: must not contain ';' '='."]

    response = client.post("/api/instances/", {**body, "options": {"odbc_driver": "/tmp/evil.so"}}, format="json")
    assert response.status_code == 400
    assert response.json()["options"] == ["options.odbc_driver: must not contain '/'."]

    response = client.post(
        "/api/instances/", {**body, "options": {"tds_version": 7.3, "encrypt": "YES"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["options"] == {"tds_version": "7.3", "encrypt": "yes"}

    pk = response.json()["id"]
    response = client.patch(f"/api/instances/{pk}/", {"options": {"tds_version": "7.4 DUMPFILE"}}, format="json")
    assert response.status_code == 400
    assert response.json()["options"][0].startswith("options.tds_version:")
    assert Instance.objects.get(pk=pk).options == {"tds_version": "7.3", "encrypt": "yes"}


# --- again on connect -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_option_forced_into_the_database_is_refused_at_connect_and_no_dump_appears(tmp_path):
    dump = tmp_path / "freetds.dump"
    instance = Instance.objects.create(
        name="mssql", db_type="sqlserver", host="127.0.0.1", port=closed_port(), options={"odbc_driver": "FreeTDS"}
    )
    Instance.objects.filter(pk=instance.pk).update(
        options={"odbc_driver": "FreeTDS", "tds_version": f"7.4;DUMPFILE={dump}"}
    )
    instance.refresh_from_db()
    params = ConnectionParams(instance.host, instance.port, "sa", "pw", options=instance.options, connect_timeout=2)
    with mock.patch("instances.engines.sqlserver.pyodbc.connect") as connect:
        result = engine_class("sqlserver")(params).test_connection()
    connect.assert_not_called()
    assert not result.success
    assert result.error_kind == "unsupported"
    assert "options.tds_version: must not contain ';' '='." in result.error
    assert not dump.exists()


# The real FreeTDS driver, in a fresh process because its dump file, once opened, stays open for
# the life of the process. The values bypass validation: this checks the escaping on its own.
_REAL_DRIVER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    import pyodbc
    from instances.engines.base import ConnectionParams, EngineError
    from instances.engines.sqlserver import connection_string

    port, dump = int(sys.argv[1]), sys.argv[2]
    attempts = [
        {"database": "x;DUMPFILE=" + dump + "_db"},
        {"tds_version": "7.4;DUMPFILE=" + dump + "_tds"},
        {"database": "x};DUMPFILE=" + dump + "_brace;"},
    ]
    outcome = []
    for options in attempts:
        params = ConnectionParams("127.0.0.1", port, "sa", "p;w=1", options=options, connect_timeout=2)
        try:
            conn_str = connection_string(params, "FreeTDS")
        except EngineError as exc:
            outcome.append(["refused", exc.kind])
            continue
        try:
            pyodbc.connect(conn_str, timeout=2)
        except pyodbc.Error as exc:
            outcome.append(["driver", exc.args[0]])
    print(json.dumps(outcome))
    """
)


def test_injected_keywords_stay_inside_their_braced_value_with_the_real_freetds(tmp_path):
    dump = tmp_path / "dump"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "capacity_site.test_settings"}
    completed = subprocess.run(
        [sys.executable, "-c", _REAL_DRIVER_SCRIPT, str(closed_port()), str(dump)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    # Both braced values reached FreeTDS whole (it then failed to connect to the closed port)...
    assert outcome[0] == ["driver", "08S01"]
    assert outcome[1][0] == "driver"
    # ...and a value holding "}", which FreeTDS 1.3 would cut short, never reached it.
    assert outcome[2] == ["refused", "unsupported"]
    assert list(tmp_path.iterdir()) == []
