"""The README's screenshots, in English and in Chinese, through the code scripts/screenshots.sh runs.

Always taken (and checked to be real pictures, the Chinese ones with real glyphs, not boxes); written to
docs/screenshots/ when CAPACITY_SCREENSHOTS=1, e.g. `CAPACITY_SCREENSHOTS=1 .venv/bin/pytest tests/browser -k
screenshot`. `scripts/screenshots.sh` does the same on a demo database without pytest.
"""

import os

import pytest

from tests.browser.conftest import PASSWORD, RecordedPage
from tests.browser.screenshots import (
    DOCS,
    PNG_SIGNATURE,
    capture,
    cjk_glyphs_render,
    login,
    new_context,
    seed_demo_fleet,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_screenshots_of_dashboard_instance_page_and_list(browser, live_server, staff_user, tmp_path, language):
    instance_pk = seed_demo_fleet(staff_user)
    context = new_context(browser, language)
    recorded = RecordedPage(context.new_page(), live_server.url)
    page = recorded.page
    page.set_default_timeout(20_000)
    login(page, live_server.url, staff_user.username, PASSWORD)
    assert page.locator("html").get_attribute("lang") == language
    if language == "zh-hans":
        assert cjk_glyphs_render(page), (
            "Chinese renders as boxes: no CJK font on this machine (scripts/bootstrap.sh installs fonts-noto-cjk)"
        )

    out_dir = DOCS if os.environ.get("CAPACITY_SCREENSHOTS") == "1" else tmp_path
    shots = capture(page, live_server.url, out_dir, language, instance_pk)

    assert [shot.name for shot in shots] == ["dashboard", "instance", "instances"]
    if language == "zh-hans":
        assert "容量看板" in page.locator("#nav-sidebar").inner_text()
        # the failing instance's answer, in Chinese, with the failure kind as a phrase
        assert "连接失败" in page.locator("[data-capacity-result].capacity-result-error").inner_text()
    for shot in shots:
        assert shot.path.read_bytes()[:8] == PNG_SIGNATURE, shot.path
        assert shot.path.stat().st_size > 20_000, f"{shot.path} looks empty"
    context.close()
    assert recorded.foreign_requests() == [], "the page fetched from outside the live server"
    assert recorded.console_errors == [], f"JavaScript errors: {recorded.console_errors}"
    assert recorded.failed_responses == [], f"requests that failed: {recorded.failed_responses}"
