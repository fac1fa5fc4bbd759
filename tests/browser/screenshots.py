"""The README's screenshots: the dashboard, an instance's capacity page and the instance list, in English
and in Simplified Chinese.

`capture()` takes one language's three pictures on a logged-in page; the browser test calls it against
its live server, and `main()` (run by scripts/screenshots.sh) does the whole job on a throwaway
database: migrate, seed a demo fleet (months of history, sync sessions, one failing instance), start the
web server, capture both languages into docs/screenshots/, stop the server.

Chinese needs a CJK font on the machine (Debian's fonts-noto-cjk; scripts/screenshots.sh installs
it): without one Chromium draws every ideograph as the same empty box. `cjk_glyphs_render()` tells.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"
LANGUAGES = {"en": "en-US", "zh-hans": "zh-CN"}  # our language code -> the browser's locale
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEMO_USER = "demo-admin"
DEMO_PASSWORD = "demo-pass-1"


@dataclass(frozen=True)
class Shot:
    language: str
    name: str
    path: Path


def file_name(name: str, language: str) -> str:
    """dashboard.png for English (the README's first picture), dashboard.zh-hans.png for Chinese."""
    return f"{name}.png" if language == "en" else f"{name}.{language}.png"


def new_context(browser, language: str):
    locale = LANGUAGES[language]
    return browser.new_context(
        viewport={"width": 1440, "height": 900},
        locale=locale,
        extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"},
    )


def login(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(base_url + "/admin/")


def cjk_glyphs_render(page) -> bool:
    """True when the page's font draws Chinese: two different ideographs give two different bitmaps.

    Without a CJK font every ideograph is the same .notdef box (tofu), so their pixels are equal.
    """
    return page.evaluate(
        """() => {
            const font = getComputedStyle(document.body).fontFamily;
            const draw = (text) => {
                const canvas = document.createElement('canvas');
                canvas.width = 64; canvas.height = 32;
                const ctx = canvas.getContext('2d');
                ctx.font = `24px ${font}`;
                ctx.fillStyle = '#000';
                ctx.fillText(text, 4, 26);
                return Array.from(ctx.getImageData(0, 0, 64, 32).data).join(',');
            };
            const a = draw('容'), b = draw('量'), blank = draw('');
            return a !== b && a !== blank && b !== blank;
        }"""
    )


def capture(page, base_url: str, out_dir: Path, language: str, instance_pk: int) -> list[Shot]:
    """The three pictures of one language, on a logged-in page; returns where they were written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shots = []

    def shoot(name):
        path = out_dir / file_name(name, language)
        page.screenshot(path=str(path), full_page=True)
        shots.append(Shot(language, name, path))

    page.goto(base_url + "/admin/capacity/instancesizestat/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#fleet-history canvas'))")
    shoot("dashboard")

    page.goto(f"{base_url}/admin/instances/instance/{instance_pk}/capacity/")
    page.click("[data-range-choice='all']")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#instance-history canvas')).data.labels.length > 100"
    )
    page.click("[data-database='orders']")
    page.wait_for_function(
        "() => { const c = document.querySelector('#database-history canvas');"
        " return c && Chart.getChart(c) && Chart.getChart(c).data.labels.length > 0; }"
    )
    shoot("instance")

    # The failing instance's Test connection button, answered in place.
    page.goto(base_url + "/admin/instances/instance/")
    row = page.locator("#result_list tbody tr", has=page.locator("a:text-is('wiki-mysql-02')"))
    row.locator("button[data-capacity-action='test']").click()
    page.wait_for_function(
        "(el) => el.classList.contains('capacity-result-error')",
        arg=row.locator("[data-capacity-result]").element_handle(),
    )
    shoot("instances")
    return shots


def seed_demo_fleet(user) -> int:
    """Months of history for a small fleet; wiki-mysql-02 points at a closed port, as its failing status
    says. Returns the pk of the instance the instance picture shows."""
    from instances import binding
    from instances.models import Instance
    from tests.ui.history import write_fleet

    instances = write_fleet(days=150, user=user)
    Instance.objects.filter(name="wiki-mysql-02").update(port=1)
    for instance in Instance.objects.exclude(credential=None):
        binding.approve(instance, user, note="demo")  # as saving it in the admin would
    return next(i.pk for i in instances if i.name == "orders-mysql-01")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urlopen(url, timeout=2):  # noqa: S310  (our own server on loopback)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshots: the server did not answer at {url} within {seconds:.0f} s") from None
            time.sleep(0.3)


def main(out_dir: Path = DOCS) -> list[Shot]:
    from cryptography.fernet import Fernet

    workdir = Path(tempfile.mkdtemp(prefix="capacity-shots-"))
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "LANGUAGE_CODE": "en",
        "DJANGO_SETTINGS_MODULE": "capacity_site.settings",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User

    user = User.objects.create_superuser(DEMO_USER, "demo@example.com", DEMO_PASSWORD)
    instance_pk = seed_demo_fleet(user)

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(base_url + "/admin/login/")
        from playwright.sync_api import sync_playwright

        from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

        shots = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for language in LANGUAGES:
                context = new_context(browser, language)
                page = context.new_page()
                page.set_default_timeout(30_000)
                login(page, base_url, DEMO_USER, DEMO_PASSWORD)
                if language != "en" and not cjk_glyphs_render(page):
                    raise SystemExit("screenshots: no CJK font, Chinese would be boxes: apt-get install fonts-noto-cjk")
                shots += capture(page, base_url, out_dir, language, instance_pk)
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for shot in shots:
        if shot.path.read_bytes()[:8] != PNG_SIGNATURE:
            raise SystemExit(f"screenshots: {shot.path} is not a PNG")
        print(f"screenshots: {shot.path.relative_to(ROOT)} ({shot.path.stat().st_size // 1024} KiB)")
    return shots


if __name__ == "__main__":
    main()
