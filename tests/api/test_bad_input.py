"""Every bad input answers 4xx with JSON that names the problem; none is a 500."""

import json
from datetime import date

import pytest

from .conftest import add_collection

pytestmark = pytest.mark.django_db

I = "{instance}"  # noqa: E741 - replaced by the instance's id
S = "{session}"

# (method, path, body, words the answer must contain, expected status)
BAD_INPUTS = [
    # unknown or malformed ids
    ("get", "/api/instances/999999/", None, ["999999"], 404),
    ("get", "/api/instances/abc/", None, ["abc"], 404),
    ("get", "/api/instances/1.5/", None, ["1.5"], 404),
    ("get", "/api/instances/99999999999999999999999/", None, ["99999999999999999999999"], 404),
    ("get", "/api/instances/1.5/databases/", None, ["1.5"], 404),
    ("get", "/api/credentials/c.1/", None, ["c.1"], 404),
    ("patch", "/api/instances/999999/", {"name": "x"}, ["999999"], 404),
    ("delete", "/api/instances/999999/", None, ["999999"], 404),
    ("get", "/api/credentials/999999/", None, ["credential", "999999"], 404),
    ("delete", "/api/credentials/999999/", None, ["credential", "999999"], 404),
    ("get", "/api/instances/999999/database-sizes/", None, ["999999"], 404),
    ("get", "/api/instances/999999/database-sizes/summary/", None, ["999999"], 404),
    ("get", "/api/instances/x1/databases/", None, ["x1"], 404),
    ("get", "/api/sync-sessions/00000000-0000-4000-8000-000000000000/", None, ["00000000-0000"], 404),
    ("get", "/api/sync-sessions/not-a-uuid/", None, ["not-a-uuid"], 404),
    # list filters and pages
    ("get", "/api/instances/?db_type=nosql", None, ["db_type", "nosql"], 400),
    ("get", "/api/instances/?credential_id=999999", None, ["credential_id"], 400),
    ("get", "/api/instances/?credential=nobody-has-this", None, ["credential"], 400),
    ("get", "/api/instances/?credential_id=99999999999999999999999", None, ["credential_id"], 400),
    ("get", "/api/instances/?name=%00", None, ["name"], 400),
    ("get", "/api/instances/?is_active=maybe", None, ["is_active", "maybe"], 400),
    ("get", "/api/instances/?port=http", None, ["port"], 400),
    ("get", "/api/instances/?page=abc", None, ["page"], 404),
    ("get", "/api/instances/?page=9999", None, ["page"], 404),
    ("get", "/api/instances/total-sizes/?db_type=db2", None, ["db_type"], 400),
    ("get", "/api/credentials/?has_password=sometimes", None, ["has_password"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?start_date=2025-13-40", None, ["start_date"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?end_date=yesterday", None, ["end_date"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?start_date=2025-02-01&end_date=2025-01-01", None, ["end_date"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?latest_only=perhaps", None, ["latest_only"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?include_deleted=2", None, ["include_deleted"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?min_size_bytes=big", None, ["min_size_bytes"], 400),
    ("get", f"/api/instances/{I}/database-sizes/?page=0", None, ["page"], 404),
    ("get", f"/api/instances/{I}/database-sizes/summary/?start_date=01/02/2025", None, ["start_date"], 400),
    ("get", f"/api/instances/{I}/database-sizes/summary/?end_date=2025-02-30", None, ["end_date"], 400),
    ("get", f"/api/instances/{I}/databases/?search=a&is_deleted=nah", None, ["is_deleted"], 400),
    ("get", "/api/sync-sessions/?session_id=xyz", None, ["session_id"], 400),
    ("get", "/api/sync-sessions/?status=exploded", None, ["status"], 400),
    ("get", "/api/sync-sessions/?start_date=soon", None, ["start_date"], 400),
    ("get", "/api/sync-sessions/?instance_id=abc", None, ["instance_id"], 400),
    ("get", "/api/sync-sessions/?instance_id=99999999999999999999999", None, ["instance_id"], 400),
    ("get", "/api/sync-sessions/?created_by_id=-99999999999999999999999", None, ["created_by_id"], 400),
    ("get", "/api/sync-sessions/x.y/", None, ["x.y"], 404),
    # bodies
    ("post", "/api/instances/", {}, ["name", "db_type", "host"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "mysql", "host": "h", "port": 70000}, ["port"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "mysql", "host": "h", "port": 0}, ["port"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "mysql", "host": "h", "port": "ssh"}, ["port"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "nosql", "host": "h"}, ["db_type", "nosql"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "mysql", "host": "bad host!"}, ["host"], 400),
    (
        "post",
        "/api/instances/",
        {"name": "x", "db_type": "mysql", "host": "h", "credential": 999999},
        ["credential"],
        400,
    ),
    ("post", "/api/instances/", {"name": "x", "db_type": "mysql", "host": "h", "options": "ssl"}, ["options"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "mysql", "host": "h", "options": [1]}, ["options"], 400),
    (
        "post",
        "/api/instances/",
        {"name": "x", "db_type": "mysql", "host": "h", "capacity_limit_bytes": 0},
        ["capacity_limit_bytes"],
        400,
    ),
    (
        "post",
        "/api/instances/",
        {"name": "x", "db_type": "mysql", "host": "h", "capacity_limit_bytes": 10**30},
        ["capacity_limit_bytes"],
        400,
    ),
    ("post", "/api/instances/", {"name": "n" * 200, "db_type": "mysql", "host": "h"}, ["name"], 400),
    ("post", "/api/instances/", {"name": "taken", "db_type": "mysql", "host": "h"}, ["name"], 400),
    ("post", "/api/instances/", {"name": "x", "db_type": "oracle", "host": "h"}, ["options"], 400),
    ("patch", f"/api/instances/{I}/", {"port": -3}, ["port"], 400),
    ("patch", f"/api/instances/{I}/", {"credential": 10**30}, ["credential"], 400),
    ("patch", f"/api/instances/{I}/", {"credential": "dba"}, ["credential"], 400),
    ("patch", f"/api/instances/{I}/", {"is_active": "sometimes"}, ["is_active"], 400),
    ("patch", f"/api/instances/{I}/", {"db_type": None}, ["db_type"], 400),
    ("post", "/api/credentials/", {}, ["name", "username"], 400),
    ("post", "/api/credentials/", {"name": "c", "username": "u", "password": {"p": 1}}, ["password"], 400),
    ("post", "/api/credentials/", {"name": "c", "username": "u" * 500}, ["username"], 400),
    ("post", "/api/credentials/", {"name": "c", "username": "u", "password": "p" * 2000}, ["password"], 400),
    ("delete", "/api/credentials/{credential}/", None, ["taken"], 409),
    # methods a path does not have
    ("put", "/api/capacity/stats/", {}, ["put"], 405),
    ("get", f"/api/instances/{I}/sync-capacity/", None, ["get"], 405),
    ("delete", f"/api/instances/{I}/database-sizes/", None, ["delete"], 405),
]


@pytest.fixture
def ids(make_target, credential):
    inst = make_target("taken")
    add_collection(inst, date(2025, 1, 1), {"a": 1})
    return {"instance": inst.pk, "credential": credential.pk, "session": ""}


@pytest.mark.parametrize("method, path, body, words, expected", BAD_INPUTS, ids=[f"{m} {p}" for m, p, *_ in BAD_INPUTS])
def test_bad_input_is_a_4xx_that_names_the_problem(admin, ids, method, path, body, words, expected):
    url = path.format(**ids)
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    response = getattr(admin, method)(url, **kwargs)
    assert response.status_code == expected, (url, response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    text = json.dumps(response.json()).lower()
    for word in words:
        assert word.lower() in text, (url, text)


def test_malformed_json_body(admin):
    response = admin.post("/api/instances/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "json" in response.json()["detail"].lower()


@pytest.mark.parametrize("size", ["abc", "-1", "-5", "0", "1001", "2.5", ""])
@pytest.mark.parametrize("path", ["/api/instances/", "/api/alert-rules/", "/api/sync-sessions/"])
def test_a_bad_page_size_is_a_400_naming_it(viewer, make_target, path, size):
    make_target("a")
    response = viewer.get(f"{path}?page_size={size}")
    assert response.status_code == 400, response.content
    assert "page_size must be a whole number from 1 to 1000" in response.json()["page_size"][0]


@pytest.mark.parametrize("size", ["1", "1000"])
def test_the_page_size_bounds_are_taken(viewer, make_target, size):
    make_target("a")
    response = viewer.get(f"/api/instances/?page_size={size}")
    assert response.status_code == 200 and response.json()["count"] == 1
