"""Production security settings from the environment: the documented example passes `check --deploy`
with no warning, behaves as documented behind a TLS proxy, and the defaults keep DEBUG and run.sh working."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "production.env.example"


def example_values() -> dict[str, str]:
    values = {}
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def run_manage(*args, env_file: Path | None = EXAMPLE, **env) -> subprocess.CompletedProcess:
    """manage.py with the real settings and only the given environment (nothing inherited from the tests)."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    base["DJANGO_SETTINGS_MODULE"] = "capacity_site.settings"
    # An empty file when none is wanted, so a developer's .env never leaks into the result.
    base["ENV_FILE"] = str(env_file) if env_file else os.devnull
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def secrets_env() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
    }


def test_the_production_example_passes_check_deploy_with_no_warning():
    result = run_manage("check", "--deploy", **secrets_env())
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in output, output
    assert "WARNING" not in output and "W0" not in output, output


def test_the_example_leaves_only_the_secrets_to_fill_in():
    values = example_values()
    assert {name for name, value in values.items() if not value} == {"SECRET_KEY", "CREDENTIAL_KEYS", "METRICS_TOKEN"}
    result = run_manage("check", "--deploy")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_example_is_read_as_documented():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps([s.DEBUG, s.SECURE_PROXY_SSL_HEADER, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.CSRF_TRUSTED_ORIGINS, "
        "s.API_DOCS_PUBLIC, s.ALLOWED_HOSTS]))"
    )
    result = run_manage("shell", "-c", code, **secrets_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '[false, ["HTTP_X_FORWARDED_PROTO", "https"], true, ["^metrics$"], 31536000, true, true, true, true, '
        '["https://capacity.example.com"], false, ["capacity.example.com"]]'
    )


def test_defaults_keep_plain_http_for_debug_and_run_sh():
    code = (
        "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.API_DOCS_PUBLIC)"
    )
    result = run_manage("shell", "-c", code, env_file=None, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["None", "False", "0", "False", "False", "False"]
    # run.sh: DEBUG off, keys from its .env, plain HTTP on 127.0.0.1: starts (without --deploy's advice).
    result = run_manage("check", env_file=None, **secrets_env())
    assert result.returncode == 0, result.stderr


def test_proxy_ssl_header_forms():
    from capacity_site.settings import _proxy_ssl_header

    assert _proxy_ssl_header("") is None
    assert _proxy_ssl_header("HTTP_X_FORWARDED_PROTO,https") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert _proxy_ssl_header(" X-Forwarded-Proto , https ") == ("HTTP_X_FORWARDED_PROTO", "https")
    for bad in ("HTTP_X_FORWARDED_PROTO", "a,b,c", ",https"):
        with pytest.raises(ImproperlyConfigured, match="HEADER,value"):
            _proxy_ssl_header(bad)


def test_a_bad_proxy_header_stops_the_start_with_one_line():
    result = run_manage("check", env_file=None, DEBUG="true", SECURE_PROXY_SSL_HEADER="https")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be 'HEADER,value'" in result.stderr


# --- behaviour with the example's settings ------------------------------------------------------

PRODUCTION = override_settings(
    ALLOWED_HOSTS=["capacity.example.com"],
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_SSL_REDIRECT=True,
    SECURE_REDIRECT_EXEMPT=[r"^metrics$"],
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    CSRF_TRUSTED_ORIGINS=["https://capacity.example.com"],
    METRICS_TOKEN="scrape-token",
)


def test_the_exemption_matches_the_settings_module():
    from django.conf import settings

    assert settings.SECURE_REDIRECT_EXEMPT == PRODUCTION.options["SECURE_REDIRECT_EXEMPT"]


@PRODUCTION
def test_plain_http_is_redirected_to_https():
    response = Client(SERVER_NAME="capacity.example.com").get("/admin/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://capacity.example.com/admin/login/"
    response = Client(SERVER_NAME="capacity.example.com").get("/api/instances/")
    assert response.status_code == 301


@PRODUCTION
@pytest.mark.django_db
def test_metrics_stay_on_plain_http_with_their_bearer_token():
    client = Client(SERVER_NAME="capacity.example.com")
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    # Only the exact path is exempt.
    assert client.get("/metrics/extra").status_code == 301


@PRODUCTION
@pytest.mark.django_db
def test_behind_the_proxy_hsts_and_secure_cookies(django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-long-enough-1")
    client = Client(SERVER_NAME="capacity.example.com", HTTP_X_FORWARDED_PROTO="https")
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.cookies["csrftoken"]["secure"]
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "pw-long-enough-1", "csrfmiddlewaretoken": token},
        HTTP_REFERER="https://capacity.example.com/admin/login/",
    )
    assert response.status_code == 302, response.content[:300]
    assert response.cookies["sessionid"]["secure"]
    assert client.get("/admin/").status_code == 200
