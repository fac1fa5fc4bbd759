"""collect_sizes and test_connection, run as a user would: a subprocess with its exit code."""

import json

import pytest

from tests.loopback import closed_port
from tests.platform import manage

pytestmark = pytest.mark.django_db(transaction=True)


def test_collect_sizes_json_and_exit_zero(mysql_box, mysql_instance):
    db = mysql_box.create_database("cmd", rows=10)
    proc = manage("collect_sizes", "--instance", mysql_instance.name, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["status"] == "completed"
    [entry] = report["instances"]
    assert entry["name"] == mysql_instance.name and entry["status"] == "completed"
    assert entry["databases_count"] >= 1 and entry["error"] is None and entry["error_kind"] is None
    assert db in str(proc.stdout + proc.stderr) or entry["total_size_bytes"] > 0
    assert "[1/1]" in proc.stderr  # progress goes to stderr with --json, so stdout stays parseable


def test_collect_sizes_exit_one_when_any_failed(mysql_box, mysql_instance, make_instance):
    mysql_box.create_database("one", rows=10)
    make_instance("closed", "mysql", port=closed_port())
    proc = manage("collect_sizes", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["status"] == "partial"
    by_name = {i["name"]: i for i in report["instances"]}
    assert by_name["closed"]["error_kind"] == "connection" and by_name["closed"]["error"]
    assert by_name[mysql_instance.name]["status"] == "completed"


def test_collect_sizes_table_and_summary_without_json(mysql_box, mysql_instance):
    mysql_box.create_database("one", rows=10)
    proc = manage("collect_sizes", "--db-type", "mysql")
    assert proc.returncode == 0, proc.stderr
    assert "[1/1]" in proc.stdout and mysql_instance.name in proc.stdout and "Session" in proc.stdout


@pytest.mark.parametrize("as_json", [False, True])
def test_collect_sizes_says_each_failure_once_and_in_full(mysql_box, mysql_instance, make_instance, as_json):
    """Once: not in the progress line, the table and the log each; in full: not cut at 100 characters."""
    mysql_box.create_database("one", rows=10)
    login = "nobody_" + "x" * 60  # the server's refusal names it: a reason well over 100 characters
    make_instance("refused", "mysql", port=mysql_box.port, username=login, password="not-the-password")
    proc = manage("collect_sizes", *(["--json"] if as_json else []))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    human = proc.stdout.strip().splitlines()
    if as_json:
        report = json.loads(human.pop())
        [refused] = [i for i in report["instances"] if i["name"] == "refused"]
        error = refused["error"]
        assert refused["error_kind"] == "auth"
    else:
        [error] = [line.split(": ", 1)[1] for line in human if line.strip().startswith("refused [auth]: ")]
    assert len(error) > 100 and login in error and error.startswith("Access denied for user")
    printed = "\n".join(human) + proc.stderr
    assert printed.count(error) == 1, printed
    assert printed.count(login) == 1, printed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--instance", "no-such-instance"], "Unknown instance: no-such-instance"),
        (["--db-type", "db2"], "invalid choice"),
        (["--concurrency", "0"], "at least 1"),
    ],
)
def test_collect_sizes_bad_arguments_exit_two(args, message):
    proc = manage("collect_sizes", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_test_connection_command(mysql_instance, make_instance):
    ok = manage("test_connection", mysql_instance.name)
    assert ok.returncode == 0, ok.stderr
    assert "server version" in ok.stdout
    make_instance("closed", "postgresql", port=closed_port())
    bad = manage("test_connection", "closed")
    assert bad.returncode == 1 and "[connection]" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    unknown = manage("test_connection", "nope")
    assert unknown.returncode == 2 and "Unknown instance: nope" in unknown.stderr


def test_collect_sizes_speaks_the_platform_language(mysql_box, mysql_instance):
    mysql_box.create_database("zh", rows=10)
    proc = manage("collect_sizes", LANGUAGE_CODE="zh-hans")
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("实例"))
    row = next(line for line in proc.stdout.splitlines() if line.startswith(mysql_instance.name))
    # CJK characters take two terminal columns: the second column starts at the same column.
    from capacity.management.commands.collect_sizes import display_width

    def second_column(line):
        first_end = line.index("  ")
        return display_width(line[: first_end + len(line[first_end:]) - len(line[first_end:].lstrip())])

    assert second_column(header) == second_column(row)
