"""What a DBA reads first: axis labels without float noise, row buttons on screen at 1366×768.

Issue 12: "14.200000000000003 MiB" on a chart axis; the per-row Sync/Test buttons and the
inventory's right-hand columns off screen with the admin sidebar open on a laptop.
"""

import re

import pytest

from tests.browser.conftest import RecordedPage
from tests.ui.history import MIB, DatabasePlan, InstancePlan, write_fleet, write_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def page_at(browser, live_server, staff_user):
    """page_at(viewport, locale) -> a logged-in RecordedPage; checked like the `ui` fixture."""
    opened = []

    def make(viewport=LAPTOP, locale="en-US"):
        context = browser.new_context(viewport=viewport, locale=locale)
        recorded = RecordedPage(context.new_page(), live_server.url)
        recorded.page.set_default_timeout(20_000)
        recorded.login(staff_user.username)
        opened.append((context, recorded))
        return recorded

    yield make
    for context, recorded in opened:
        context.close()
        assert recorded.foreign_requests() == []
        assert recorded.console_errors == [], recorded.console_errors
        assert recorded.failed_responses == [], recorded.failed_responses


def _axis_labels(page, selector):
    page.wait_for_function(
        "(s) => { const c = document.querySelector(s); const chart = c && window.Chart && Chart.getChart(c);"
        " return chart && chart.scales.y && chart.scales.y.ticks.length > 1; }",
        arg=selector,
    )
    return page.evaluate(
        "(s) => Chart.getChart(document.querySelector(s)).scales.y.ticks.map((t) => t.label)", selector
    )


def _decimals(label):
    number = label.rsplit(" ", 1)[0].replace(",", "")
    return len(number.partition(".")[2])


def _assert_rounded(labels, unit):
    """Every label is a number and the unit, with one decimal count for the axis, and no more than needed."""
    assert labels and all(re.fullmatch(r"-?[\d,]+(\.\d{1,3})? " + unit, label) for label in labels), labels
    values = [float(label.rsplit(" ", 1)[0].replace(",", "")) for label in labels]
    assert len(set(values)) == len(values), labels  # rounding never merges two ticks
    needed = max(_decimals(label) for label in labels)
    # the decimals shown are the fewest that tell the ticks apart exactly: one fewer would not do
    if needed:
        steps = {round(b - a, 6) for a, b in zip(values, values[1:], strict=False)}
        assert any(round(step, needed - 1) != step for step in steps), labels


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("zh-CN", "zh-hans")])
def test_axis_labels_carry_only_the_digits_they_need(page_at, locale, lang):
    # 13.6 MiB growing to about 14.2 MiB: ticks every 0.1 MiB, where float sums show their noise.
    instance = write_history(
        InstancePlan(
            name="small-pg",
            db_type="postgresql",
            days=40,
            databases=[DatabasePlan("app", start_bytes=int(13.6 * MIB), daily_growth_bytes=16 * 1024)],
        )
    )
    ui = page_at(locale=locale)
    page = ui.page
    ui.goto(f"/admin/instances/instance/{instance.pk}/capacity/")
    assert page.evaluate("() => document.documentElement.lang") == lang
    labels = _axis_labels(page, "#instance-history canvas")
    _assert_rounded(labels, "MiB")
    assert not any(re.search(r"\d{4,}", label.replace(",", "")) for label in labels), labels

    # the formatter itself, on the tick values that printed "14.200000000000003 MiB"
    noisy = [13.600000000000001, 13.8, 14.000000000000002, 14.200000000000003]
    shown = page.evaluate("(v) => v.map((x) => window.capacityAxisLabel(x, v, 'MiB'))", noisy)
    assert shown == ["13.6 MiB", "13.8 MiB", "14 MiB", "14.2 MiB"]
    quarters = [0, 0.25, 0.5, 0.75]
    shown = page.evaluate("(v) => v.map((x) => window.capacityAxisLabel(x, v, 'GiB'))", quarters)
    assert shown == ["0 GiB", "0.25 GiB", "0.5 GiB", "0.75 GiB"]


def _off_screen(page, selector):
    """Elements matching selector whose box is not wholly inside the viewport, as text."""
    return page.evaluate(
        """(s) => [...document.querySelectorAll(s)].filter((el) => {
            const r = el.getBoundingClientRect();
            const box = el.closest('.results');  // the table's own scroll box clips what overflows it
            const right = Math.min(window.innerWidth, box ? box.getBoundingClientRect().right : Infinity);
            return r.width === 0 || r.left < 0 || r.right > right + 0.5;
        }).map((el) => `${el.textContent.trim()} at ${Math.round(el.getBoundingClientRect().left)}-` +
                     `${Math.round(el.getBoundingClientRect().right)}`)""",
        selector,
    )


def _no_horizontal_scroll(page):
    widths = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth, viewport: window.innerWidth,
            results: [...document.querySelectorAll('#changelist .results')].map((el) =>
                [el.scrollWidth, el.clientWidth]),
        })"""
    )
    assert widths["page"] <= widths["viewport"], widths
    assert all(scroll <= client for scroll, client in widths["results"]), widths


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_row_buttons_are_on_screen_at_1366_with_the_sidebar_open(page_at, locale):
    write_fleet(days=10)
    ui = page_at(locale=locale)
    page = ui.page
    ui.goto("/admin/instances/instance/")
    assert page.locator("#nav-sidebar").is_visible()  # the sidebar is open
    buttons = page.locator("#result_list button[data-capacity-action]")
    assert buttons.count() >= 12
    assert _off_screen(page, "#result_list button[data-capacity-action]") == []
    _no_horizontal_scroll(page)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_inventory_list_keeps_its_right_hand_columns_on_screen(page_at, locale):
    write_fleet(days=10)
    ui = page_at(locale=locale)
    page = ui.page
    ui.goto("/admin/capacity/databaseinventory/")
    assert page.locator("#nav-sidebar").is_visible()
    assert page.locator("#result_list tbody tr").count() > 5
    assert _off_screen(page, "#result_list thead th") == []
    _no_horizontal_scroll(page)
