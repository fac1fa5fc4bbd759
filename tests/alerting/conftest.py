"""The API tests' users and clients, generated history, a loopback webhook receiver and a fake engine."""

import json
import socket
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerting.models import AlertRule
from instances.choices import ErrorKind
from instances.engines import CollectResult, DatabaseSize, EngineError
from instances.engines.base import BaseEngine
from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    add_collection,
    admin,
    client_for,
    credential,
    make_target,
    operator,
    users,
    viewer,
)
from tests.forecast.conftest import MiB, add_history  # noqa: F401 - re-exported for the tests

GiB = 1024 * MiB
END = date(2025, 6, 30)


@pytest.fixture
def make_rule(db):
    def make(name, kind, **fields):
        rule = AlertRule(name=name, kind=kind, **fields)
        rule.full_clean()
        rule.save()
        return rule

    return make


class Receiver:
    """What the loopback webhook server got, and how it answers: status, delay, redirect."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.location = ""
        self.release = threading.Event()  # set at teardown: a delayed answer stops waiting
        self.received = threading.Condition()

    def bodies(self):
        return [json.loads(r["body"]) for r in self.requests]

    def wait_for(self, count, timeout=5.0):
        with self.received:
            return self.received.wait_for(lambda: len(self.requests) >= count, timeout)


PUBLIC_TEST_ADDRESS = "93.184.215.14"  # what the test resolver answers for *.example.com (nothing is sent there)


@pytest.fixture(autouse=True)
def offline_dns(monkeypatch):
    """Webhook URLs are resolved when saved: *.example.com resolves to a public address, without a DNS server."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.rstrip(".").endswith("example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (PUBLIC_TEST_ADDRESS, port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def allow_webhooks_to(settings, *entries):
    """Add CAPACITY_WEBHOOK_ALLOWED_NETWORKS entries (a loopback receiver of a test)."""
    settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS = [*settings.CAPACITY_WEBHOOK_ALLOWED_NETWORKS, *entries]


@pytest.fixture
def webhook_server(settings):
    """An HTTP server on 127.0.0.1:<free port> in a thread; yields (base URL, Receiver). Stops at teardown.

    Its address and port (only those) are in CAPACITY_WEBHOOK_ALLOWED_NETWORKS, as an in-house receiver.
    """
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that stalls cannot hold a handler thread for longer

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            with receiver.received:
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "method": "POST"}
                )
                receiver.received.notify_all()
            if receiver.delay:
                receiver.release.wait(receiver.delay)
            redirect = receiver.location and self.path == "/hook"
            self.send_response(receiver.status if not redirect else 307)
            if redirect:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            try:
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up waiting

        def do_GET(self):
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": "", "method": "GET"})
            self.send_response(405)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    allow_webhooks_to(settings, f"127.0.0.1:{server.server_address[1]}")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


class SizedEngine(BaseEngine):
    """Reports the databases listed in `sizes[instance name]`, with no server behind it; `failing` ones refuse."""

    sizes: dict[str, dict[str, int]] = {}
    failing: set[str] = set()

    def _open(self):
        return self

    def close(self):
        self._conn = None

    def _server_version(self):
        return "fake"

    def _list_database_sizes(self):
        if self.params.name in type(self).failing:
            raise EngineError(ErrorKind.CONNECTION, "Connection refused")
        databases = type(self).sizes.get(self.params.name, {})
        return CollectResult(
            databases=[
                DatabaseSize(name=name, size_bytes=size, data_size_bytes=size) for name, size in databases.items()
            ]
        )


@pytest.fixture
def sized_engine(monkeypatch):
    SizedEngine.sizes, SizedEngine.failing = {}, set()
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: SizedEngine)
    return SizedEngine
