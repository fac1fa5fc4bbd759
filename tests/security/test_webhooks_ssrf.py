"""A rule editor (not superuser) tries to make alert webhooks reach the platform's own network.

Every attempt is refused when the rule is saved (400 naming webhook_url) or, for what only shows
at delivery (a redirect, a name that resolves elsewhere later, a value written past validation),
when the webhook is sent; a loopback listener that records every connection receives nothing.
The in-house receiver of the allowlist (CAPACITY_WEBHOOK_ALLOWED_NETWORKS) still gets its POST.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerting.models import Alert, AlertRule
from alerting.services.webhooks import deliver_webhook, post_json
from instances.models import Instance

from .conftest import staff_user
from .listener import RecordingListener

pytestmark = pytest.mark.django_db

RULES = "/api/alert-rules/"
PUBLIC = "93.184.215.14"


@pytest.fixture
def editor(django_user_model):
    return staff_user(
        django_user_model,
        "rule-editor",
        ["alerting.view_alertrule", "alerting.add_alertrule", "alerting.change_alertrule", "alerting.view_alert"],
    )


@pytest.fixture
def listener():
    with RecordingListener() as server:
        yield server


@pytest.fixture
def resolver(monkeypatch):
    """Names of the test → the addresses they resolve to, one answer per lookup (the last one repeats)."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


class Receiver:
    def __init__(self, location=""):
        self.location = location
        self.requests = []


@pytest.fixture
def receiver():
    """An in-house HTTP receiver on 127.0.0.1; answers 200, or 307 to `location` when set."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append({"path": self.path, "host": self.headers["Host"], "body": body, **self.headers})
            self.send_response(307 if state.location else 200)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.port = server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def rule_body(url):
    return {"name": "loud", "kind": "total_size", "threshold_bytes": 1, "webhook_url": url}


def assert_refused_at_save(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == ["webhook_url"], body
    assert not AlertRule.objects.exists()
    return body["webhook_url"][0]


def fired_alert(url):
    """A firing alert of a rule whose stored URL was written past validation (a shell, an update())."""
    instance = Instance.objects.create(name="orders", db_type="postgresql", host="db.example.com")
    rule = AlertRule.objects.filter(webhook_url=url).first() or AlertRule.objects.create(
        name="loud", kind="total_size", threshold_bytes=1
    )
    AlertRule.objects.filter(pk=rule.pk).update(webhook_url=url)
    from django.utils import timezone

    now = timezone.now()
    return Alert.objects.create(
        rule=rule, instance=instance, value=2, threshold=1, message="big", first_fired_at=now, last_evaluated_at=now
    )


# --- refused when saved ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/", "cloud metadata"),
        ("http://100.100.100.200/latest/meta-data/", "cloud metadata"),
        ("http://127.0.0.1:{port}/api/capacity/collect/", "loopback"),
        ("http://localhost:6379/", "loopback"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://0.0.0.0:{port}/", "unspecified"),
        ("http://10.1.2.3/", "private"),
        ("http://[fd12::7]/", "private"),
        ("http://169.254.10.1/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://hooks.example.com:99999/x", "1–65535"),
        ("http://hooks.example.com:0/x", "1–65535"),
        ('http://us"er@hooks.example.com/', "login"),
        ("http://2130706433/", "http"),  # decimal, octal and hex spellings are not URLs Django accepts
        ("http://0177.0.0.1/", "http"),
        ("http://0x7f.1/", "http"),
    ],
)
def test_refused_when_saved(editor, api_as, listener, url, reason):
    message = assert_refused_at_save(
        api_as(editor).post(RULES, rule_body(url.format(port=listener.port)), format="json")
    )
    assert reason in message
    listener.assert_untouched()


def test_a_name_that_resolves_to_loopback_is_refused_when_saved(editor, api_as, resolver, listener):
    answers, _lookups = resolver
    answers["hooks.evil.example"] = ["127.0.0.1"]
    message = assert_refused_at_save(
        api_as(editor).post(RULES, rule_body(f"http://hooks.evil.example:{listener.port}/"), format="json")
    )
    assert message.startswith(
        "Webhooks do not reach the platform's own network: hooks.evil.example resolves to 127.0.0.1"
    )
    listener.assert_untouched()


def test_a_name_with_one_public_and_one_loopback_address_is_refused(editor, api_as, monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert "127.0.0.1" in assert_refused_at_save(
        api_as(editor).post(RULES, rule_body("https://mixed.example.net/"), format="json")
    )


def test_a_change_to_an_internal_url_is_refused(editor, api_as, resolver):
    answers, _lookups = resolver
    answers["hooks.example.net"] = [PUBLIC]
    api = api_as(editor)
    created = api.post(RULES, rule_body("https://hooks.example.net/alerts"), format="json")
    assert created.status_code == 201, created.content
    response = api.patch(f"{RULES}{created.json()['id']}/", {"webhook_url": "http://127.0.0.1:8000/"}, format="json")
    assert response.status_code == 400 and "loopback" in response.json()["webhook_url"][0]
    assert AlertRule.objects.get().webhook_url == "https://hooks.example.net/alerts"


def test_the_admin_form_refuses_it_too(editor, listener):
    from django.test import Client

    client = Client()
    client.force_login(editor)
    response = client.post(
        "/admin/alerting/alertrule/add/",
        {
            "name": "loud",
            "kind": "total_size",
            "threshold_bytes": "1 GiB",
            "window_days": "30",
            "is_active": "on",
            "webhook_url": f"http://127.0.0.1:{listener.port}/",
        },
    )
    assert response.status_code == 200
    assert "loopback" in str(response.context["adminform"].form.errors["webhook_url"])
    assert not AlertRule.objects.exists()


# --- refused when delivered ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://2130706433:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://169.254.169.254/latest/meta-data/iam/",
    ],
)
def test_a_stored_internal_url_is_not_sent(listener, url):
    alert = fired_alert(url.format(port=listener.port))
    outcome = deliver_webhook(alert.pk, {"status": "firing"})
    alert.refresh_from_db()
    assert outcome["status"] is None and alert.webhook_error.startswith("Not sent: ")
    assert alert.webhook_delivered_at is None
    listener.assert_untouched()


def test_dns_rebinding_is_refused_at_delivery(editor, api_as, resolver, listener):
    answers, lookups = resolver
    answers["rebind.example.net"] = [PUBLIC, "127.0.0.1"]  # public when saved, loopback when sent
    created = api_as(editor).post(RULES, rule_body(f"http://rebind.example.net:{listener.port}/"), format="json")
    assert created.status_code == 201, created.content
    alert = fired_alert(f"http://rebind.example.net:{listener.port}/")
    outcome = deliver_webhook(alert.pk, {"status": "firing"})
    assert "resolves to 127.0.0.1" in outcome["error"]
    listener.assert_untouched()


def test_the_connection_goes_to_the_address_that_was_checked(settings, resolver, receiver):
    """The name is looked up once per hop and the socket goes to that answer, not to a second lookup."""
    answers, lookups = resolver
    answers["hooks.corp.example"] = ["127.0.0.1", "127.0.0.2"]  # a second lookup would lead nowhere
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [f"127.0.0.1:{receiver.port}"]
    status, error = post_json(f"http://hooks.corp.example:{receiver.port}/alerts?k=1", {"status": "firing"}, 5)
    assert (status, error) == (200, "")
    assert lookups == ["hooks.corp.example"]
    (request,) = receiver.requests
    assert request["host"] == f"hooks.corp.example:{receiver.port}" and request["path"] == "/alerts?k=1"


def test_a_redirect_from_the_allowed_receiver_to_loopback_is_not_followed(settings, receiver, listener):
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [f"127.0.0.1:{receiver.port}"]  # this port only
    receiver.location = f"http://127.0.0.1:{listener.port}/api/capacity/collect/"
    status, error = post_json(f"http://127.0.0.1:{receiver.port}/hook", {"status": "firing"}, 5)
    assert status == 307
    assert error.startswith(
        f"HTTP 307: redirect to http://127.0.0.1:{listener.port}/api/capacity/collect/ not followed"
    )
    assert "loopback" in error
    assert len(receiver.requests) == 1
    listener.assert_untouched()


def test_a_redirect_to_a_name_that_resolves_to_metadata_is_not_followed(settings, receiver, resolver):
    answers, _lookups = resolver
    answers["meta.example.net"] = ["169.254.169.254"]
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [f"127.0.0.1:{receiver.port}", "169.254.0.0/16"]
    receiver.location = "http://meta.example.net/latest/meta-data/"
    status, error = post_json(f"http://127.0.0.1:{receiver.port}/hook", {"status": "firing"}, 5)
    assert status == 307 and "cloud metadata" in error  # no allowlist entry reaches a metadata service


def test_proxy_variables_are_ignored(settings, receiver, listener, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [f"127.0.0.1:{receiver.port}"]
    assert post_json(f"http://127.0.0.1:{receiver.port}/hook", {"status": "firing"}, 5) == (200, "")
    listener.assert_untouched()


def test_delivery_through_the_allowlist_works(settings, receiver):
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    alert = fired_alert(f"http://ops:s%40cret@127.0.0.1:{receiver.port}/hook")
    outcome = deliver_webhook(alert.pk, {"status": "firing", "alert_id": alert.pk})
    assert outcome == {"alert_id": alert.pk, "status": 200, "error": ""}
    (request,) = receiver.requests
    assert json.loads(request["body"]) == {"status": "firing", "alert_id": alert.pk}
    assert request["Authorization"] == "Basic b3BzOnNAY3JldA=="  # ops:s@cret, the URL's login
    assert request["host"] == f"127.0.0.1:{receiver.port}"


def test_the_allowlist_is_per_port_when_a_port_is_given(editor, api_as, settings, receiver, listener):
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [f"127.0.0.1:{receiver.port}"]
    api = api_as(editor)
    assert api.post(RULES, rule_body(f"http://127.0.0.1:{receiver.port}/hook"), format="json").status_code == 201
    AlertRule.objects.all().delete()
    assert "loopback" in assert_refused_at_save(
        api.post(RULES, rule_body(f"http://127.0.0.1:{listener.port}/"), format="json")
    )


# --- a stored value no longer valid is shown as such, never a 500 ------------------------------------


@pytest.mark.parametrize(
    "stored, reason",
    [
        ("http://hooks.example.com:99999/x", "1–65535"),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::1/", "http"),
    ],
)
def test_a_stored_url_no_longer_valid_reads_as_invalid(django_user_model, api_as, editor, stored, reason):
    rule = AlertRule.objects.create(name="loud", kind="total_size", threshold_bytes=1)
    AlertRule.objects.filter(pk=rule.pk).update(webhook_url=stored)
    reader = staff_user(django_user_model, "reader", ["alerting.view_alertrule"])
    for user in (reader, editor):
        response = api_as(user).get(RULES)
        assert response.status_code == 200, response.content
        (row,) = response.json()["results"]
        assert row["webhook_status"].startswith("invalid: ") and reason in row["webhook_status"], row
        detail = api_as(user).get(f"{RULES}{rule.pk}/")
        assert detail.status_code == 200 and detail.json()["webhook_status"] == row["webhook_status"]
    shown = api_as(reader).get(RULES).json()["results"][0]["webhook_url"]
    assert shown == "…" or (shown.endswith("/…") and "/x" not in shown)


def test_the_admin_shows_a_stored_url_no_longer_valid(django_user_model, editor):
    from django.test import Client

    rule = AlertRule.objects.create(name="loud", kind="total_size", threshold_bytes=1)
    AlertRule.objects.filter(pk=rule.pk).update(webhook_url="http://hooks.example.com:99999/x")
    reader = staff_user(django_user_model, "reader", ["alerting.view_alertrule"])
    for user in (reader, editor):
        client = Client()
        client.force_login(user)
        listing = client.get("/admin/alerting/alertrule/")
        assert listing.status_code == 200 and "1–65535" in listing.content.decode()
        page = client.get(f"/admin/alerting/alertrule/{rule.pk}/change/")
        assert page.status_code == 200


def _tls_receiver(tmp_path, name):
    """An https receiver on 127.0.0.1 whose certificate names `name` only, and a CA file that trusts it."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server, cert_file, seen


def test_https_goes_to_the_checked_address_and_verifies_the_name(tmp_path, settings, resolver, monkeypatch):
    answers, lookups = resolver
    server, ca_file, seen = _tls_receiver(tmp_path, "hooks.corp.example")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        answers["hooks.corp.example"] = ["127.0.0.1"]
        answers["other.corp.example"] = ["127.0.0.1"]
        settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [f"127.0.0.1:{port}"]
        assert post_json(f"https://hooks.corp.example:{port}/x", {"status": "firing"}, 5) == (200, "")
        assert seen == [f"hooks.corp.example:{port}"] and lookups == ["hooks.corp.example"]
        # The same address under a name the certificate does not carry: refused by TLS, nothing posted.
        status, error = post_json(f"https://other.corp.example:{port}/x", {"status": "firing"}, 5)
        assert status is None and error.startswith("The webhook's TLS failed"), error
        assert len(seen) == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
