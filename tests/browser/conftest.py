"""Headless Debian Chromium driven by Playwright against pytest-django's live server.

Never downloads a browser: a missing /usr/bin/chromium fails with a message saying how to get it.
Every request a page makes is recorded, and a test fails if any leaves the live server.
"""

import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of fixtures and tests
# are still plain synchronous code, so Django's async-safety guard must stand aside.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
CHART_JS = ROOT / "static" / "vendor" / "chartjs" / "chart.umd.min.js"
PASSWORD = "browser-pass-1"


@pytest.fixture(scope="session")
def vendored_assets():
    """Chart.js is installed at install time; a checkout that skipped bootstrap gets it here once."""
    if not CHART_JS.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "install_assets.sh")], check=False)
    if not CHART_JS.exists():
        pytest.fail(f"{CHART_JS} is missing: run scripts/install_assets.sh (needs npm).", pytrace=False)
    return CHART_JS


@pytest.fixture(scope="session")
def browser(vendored_assets):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is required for the browser tests and {CHROMIUM} is not there: "
            "run scripts/bootstrap.sh (installs Debian's chromium) or set CHROMIUM_PATH.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class RecordedPage:
    """A page plus every URL it requested, with helpers the tests share."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.failed_responses: list[str] = []
        self.expected_failures: list[str] = []  # a test that provokes an error answer lists it here
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def _on_response(self, response):
        # Chromium asks for /favicon.ico on its own; the admin has none.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failed_responses.append(f"{response.status} {response.request.method} {response.url}")

    def _on_console(self, message):
        # Failed loads are reported with their URL by _on_response; the console text has none.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def goto(self, path):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"
        return response

    def login(self, username, password=PASSWORD):
        self.goto("/admin/login/?next=/admin/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_url(self.base_url + "/admin/")

    def foreign_requests(self):
        base = urlparse(self.base_url)
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:", "about:"))
            and (urlparse(url).scheme, urlparse(url).netloc) != (base.scheme, base.netloc)
        ]

    def chart_points(self, selector):
        """Number of points the Chart.js chart on the canvas holds (0 when none is drawn)."""
        return self.page.evaluate(
            """(selector) => {
                const canvas = document.querySelector(selector);
                const chart = canvas && window.Chart && window.Chart.getChart(canvas);
                if (!chart) return 0;
                return chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0);
            }""",
            selector,
        )

    def painted_pixels(self, selector):
        """How many pixels of the canvas are not fully transparent: 0 for a blank canvas."""
        return self.page.evaluate(
            """(selector) => {
                const canvas = document.querySelector(selector);
                const ctx = canvas.getContext('2d');
                const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
                return painted;
            }""",
            selector,
        )


@pytest.fixture
def staff_user(transactional_db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("browser-admin", "admin@example.com", PASSWORD)


@pytest.fixture
def ui(browser, live_server, staff_user):
    """A logged-in page on the live server; fails the test if anything was fetched from elsewhere."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    recorded = RecordedPage(context.new_page(), live_server.url)
    recorded.page.set_default_timeout(20_000)
    recorded.login(staff_user.username)
    yield recorded
    context.close()
    assert recorded.foreign_requests() == [], "the page fetched from outside the live server"
    assert recorded.console_errors == [], f"JavaScript errors: {recorded.console_errors}"
    unexpected = [r for r in recorded.failed_responses if r not in recorded.expected_failures]
    assert unexpected == [], f"requests that failed: {unexpected}"
