"""Request limits: a body too large, nested too deep or with oversized fields gets a 4xx JSON, never a 500."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from instances.models import Credential, Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = APIClient()
    client.force_login(user)
    return client


def post_raw(client, path, body: str | bytes, method="post"):
    return getattr(client, method)(path, data=body, content_type="application/json")


def nested(depth: int, leaf="1") -> str:
    return "[" * depth + leaf + "]" * depth


def test_thousand_level_nesting_is_a_400_not_a_500(admin_api):
    for path in ("/api/instances/", "/api/credentials/", "/api/alert-rules/"):
        response = post_raw(admin_api, path, nested(1000))
        assert response.status_code == 400, (path, response.status_code)
        assert "nest deeper than 32 levels" in response.json()["detail"]
    assert not Instance.objects.exists()


def test_deep_options_inside_a_valid_body_are_refused(admin_api):
    options = "{}"
    for _ in range(950):
        options = '{"a":' + options + "}"
    body = '{"name": "deep", "db_type": "mysql", "host": "h", "options": ' + options + "}"
    response = post_raw(admin_api, "/api/instances/", body)
    assert response.status_code == 400
    assert "nest deeper" in response.json()["detail"]


def test_nesting_up_to_the_limit_still_parses(admin_api):
    # 32 levels in all: the body object and 31 levels inside it, refused by the options rule, not the parser.
    options = "{}"
    for _ in range(30):
        options = '{"a":' + options + "}"
    body = '{"name": "deep", "db_type": "mysql", "host": "h", "options": ' + options + "}"
    response = post_raw(admin_api, "/api/instances/", body)
    assert response.status_code == 400
    assert "nest deeper than 4 levels" in response.json()["options"][0]


def test_brackets_inside_strings_do_not_count(admin_api):
    description = "[" * 500 + '{\\"' + "]" * 3
    body = json.dumps({"name": "brackets", "db_type": "mysql", "host": "h", "description": description})
    response = post_raw(admin_api, "/api/instances/", body)
    assert response.status_code == 201, response.content[:300]
    assert Instance.objects.get(name="brackets").description == description


def test_depth_scan_reads_escapes_and_strings():
    from common.api.parsers import exceeds_depth

    text = '{"a": "[[[[[[", "b": [1, {"c": "\\"[[[["}]}'
    assert not exceeds_depth(text, 3) and exceeds_depth(text, 2)
    assert exceeds_depth('{"a": [[1]]}', 2)
    assert not exceeds_depth('{"a": [[1]]}', 3)
    assert not exceeds_depth('"just a string ]]]]"', 1)
    # Kinds of bracket do not matter, each level counts once.
    assert not exceeds_depth("{[]}", 2) and exceeds_depth("{[]}", 1) and not exceeds_depth("[][]{}", 1)
    # Not JSON: an unterminated string hides the rest; a few unclosed brackets are left to the decoder's
    # message, many are refused (the decoder would recurse into every one of them).
    assert not exceeds_depth('"' + '\\"' * 1000 + "[[[[", 2)
    assert not exceeds_depth('{"name": ', 32)
    assert exceeds_depth("[" * 33, 32) and not exceeds_depth("[" * 32, 32)


def test_a_body_over_the_limit_is_413(admin_api, settings):
    settings.API_MAX_BODY_BYTES = 4096
    body = json.dumps({"name": "big", "db_type": "mysql", "host": "h", "description": "x" * 5000})
    response = post_raw(admin_api, "/api/instances/", body)
    assert response.status_code == 413
    assert "larger than 4,096 bytes" in response.json()["detail"]
    assert not Instance.objects.exists()


def test_the_default_body_limit_is_one_mebibyte(admin_api):
    body = json.dumps({"name": "big", "username": "u", "description": "x" * (1024 * 1024)})
    response = post_raw(admin_api, "/api/credentials/", body)
    assert response.status_code == 413
    assert "1,048,576" in response.json()["detail"]


def test_a_body_that_lies_about_its_length_is_cut_at_the_limit(settings):
    """The stream is read up to the limit + 1 byte, whatever Content-Length says."""
    import io

    from common.api.parsers import BoundedJSONParser, RequestBodyTooLarge

    settings.API_MAX_BODY_BYTES = 2048

    class Request:
        META = {"CONTENT_LENGTH": "10"}

    stream = io.BytesIO(b'{"a": "' + b"x" * 5000 + b'"}')
    with pytest.raises(RequestBodyTooLarge):
        BoundedJSONParser().parse(stream, "application/json", {"request": Request()})
    assert stream.tell() == 2049


def test_two_megabyte_description_is_refused(admin_api, settings):
    settings.API_MAX_BODY_BYTES = 4 * 1024 * 1024
    body = json.dumps({"name": "big", "db_type": "mysql", "host": "h", "description": "d" * (2 * 1024 * 1024)})
    response = post_raw(admin_api, "/api/instances/", body)
    assert response.status_code == 400
    assert "10000 characters" in response.json()["description"][0]
    response = post_raw(
        admin_api, "/api/credentials/", json.dumps({"name": "c", "username": "u", "description": "d" * 10_001})
    )
    assert response.status_code == 400 and response.json()["description"]
    assert not Credential.objects.filter(name="c").exists()


def test_a_long_description_within_the_limit_is_kept(admin_api):
    response = admin_api.post("/api/credentials/", {"name": "c", "username": "u", "description": "d" * 10_000})
    assert response.status_code == 201, response.content[:300]


def test_one_megabyte_options_are_refused(admin_api, settings):
    settings.API_MAX_BODY_BYTES = 2 * 1024 * 1024
    options = {"sslmode": "require", "padding": "p" * (1024 * 1024)}
    response = admin_api.post(
        "/api/instances/", {"name": "fat", "db_type": "postgresql", "host": "h", "options": options}
    )
    assert response.status_code == 400
    assert "at most 4,096 are allowed" in response.json()["options"][0]
    assert not Instance.objects.exists()


def test_options_size_and_depth_apply_to_patch(admin_api):
    inst = Instance.objects.create(name="pg", db_type="postgresql", host="h")
    url = f"/api/instances/{inst.pk}/"
    response = admin_api.patch(url, {"options": {"a": {"b": {"c": {"d": {"e": 1}}}}}})
    assert response.status_code == 400 and "4 levels" in response.json()["options"][0]
    response = admin_api.patch(url, {"options": {"padding": "p" * 5000}})
    assert response.status_code == 400 and response.json()["options"]
    inst.refresh_from_db()
    assert inst.options == {}


def test_a_body_that_is_not_json_is_a_400(admin_api):
    for body in (b'{"name": ', b"\xff\xfe{}", '{"n": 1' + "9" * 5000 + "}", '{"a": NaN}'):
        response = post_raw(admin_api, "/api/instances/", body)
        assert response.status_code == 400, body[:20]
        assert response.json()["detail"].startswith("JSON parse error")


def test_form_bodies_are_not_taken(admin_api):
    response = admin_api.post(
        "/api/credentials/", data="name=x&username=y", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["detail"]


ADMIN_ADD = "/admin/instances/instance/add/"


def admin_form(**fields):
    return {"name": "x", "db_type": "postgresql", "host": "h", "is_active": "on", "options": "{}", **fields}


def test_admin_form_with_thousand_level_options_is_a_form_error(admin_client):
    response = admin_client.post(ADMIN_ADD, admin_form(options="[" * 1000 + "]" * 1000))
    assert response.status_code == 200
    assert "Options nest deeper than 4 levels." in response.context["adminform"].form.errors["options"]
    assert not Instance.objects.exists()


def test_admin_forms_bound_options_and_descriptions(admin_client):
    response = admin_client.post(ADMIN_ADD, admin_form(options=json.dumps({"padding": "p" * 5000})))
    assert "at most 4,096 are allowed" in response.context["adminform"].form.errors["options"][0]
    response = admin_client.post(ADMIN_ADD, admin_form(description="d" * 10_001))
    assert response.context["adminform"].form.errors["description"]
    response = admin_client.post(
        "/admin/instances/credential/add/", {"name": "c", "username": "u", "description": "d" * 10_001}
    )
    assert response.context["adminform"].form.errors["description"]
    assert not Instance.objects.exists() and not Credential.objects.exists()
    response = admin_client.post(ADMIN_ADD, admin_form(options='{"sslmode": "require"}', description="d" * 10_000))
    assert response.status_code == 302
    assert Instance.objects.get(name="x").options == {"sslmode": "require"}
