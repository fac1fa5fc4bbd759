"""The capacity admin in a real headless Chromium, against the live server."""

import re

import pytest

from capacity.models import DatabaseSizeStat
from common.formatting import human_bytes
from tests.ui.history import write_fleet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _named(instances, name):
    return next(i for i in instances if i.name == name)


def test_index_summary_and_dashboard_link(ui):
    write_fleet(days=60)
    ui.goto("/admin/")
    summary = ui.page.locator("#capacity-summary")
    assert summary.is_visible()
    assert "6 active, 1 failing" in summary.inner_text()
    assert "wiki-mysql-02" in summary.inner_text()
    ui.page.click("#content-main .app-capacity a:has-text('Capacity dashboard')")
    ui.page.wait_for_url(re.compile(r"/admin/capacity/instancesizestat/dashboard/$"))
    assert ui.page.locator("h1").inner_text() == "Capacity dashboard"


def test_dashboard_draws_its_charts_and_switches_range(ui):
    write_fleet(days=150)
    page = ui.page
    ui.goto("/admin/capacity/instancesizestat/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#fleet-history canvas'))")
    assert ui.chart_points("#fleet-history canvas") == 91
    assert ui.painted_pixels("#fleet-history canvas") > 1000
    assert ui.chart_points("#db-type-chart canvas") == 4
    assert any(url.endswith("/static/vendor/chartjs/chart.umd.min.js") for url in ui.requests)
    assert ui.foreign_requests() == []
    assert ui.painted_pixels("#db-type-chart canvas") > 1000

    page.click("#fleet-history [data-range-choice='all']")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#fleet-history canvas')).data.labels.length === 150"
    )
    assert page.get_attribute("#fleet-history [data-range-choice='all']", "aria-pressed") == "true"
    page.click("#fleet-history [data-period-choice='month']")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#fleet-history canvas')).data.labels.length <= 6"
    )
    labels = page.evaluate("() => Chart.getChart(document.querySelector('#fleet-history canvas')).data.labels")
    assert all(re.match(r"^[A-Z][a-z]+ \d{4}$", label) for label in labels), labels
    tooltip_text = page.evaluate(
        "() => Chart.getChart(document.querySelector('#fleet-history canvas')).data.datasets[0].human.at(-1)"
    )
    assert tooltip_text.endswith("GiB")
    assert page.locator("#top-instances-size tbody tr").count() == 6
    assert page.locator("#recent-sessions tbody tr").count() == 5


def test_instance_page_charts_and_database_history(ui):
    instances = write_fleet(days=120)
    orders = _named(instances, "orders-mysql-01")
    page = ui.page
    ui.goto(f"/admin/instances/instance/{orders.pk}/capacity/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#instance-history canvas'))")
    assert ui.chart_points("#instance-history canvas") == 91
    assert ui.painted_pixels("#instance-history canvas") > 1000
    cards = page.locator("#capacity-cards").inner_text()
    assert "TOTAL SIZE" in cards.upper() and "GiB" in cards

    # weekly points come from the aggregates
    page.click("#instance-history [data-period-choice='week']")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#instance-history canvas')).data.labels.length < 20"
    )
    label = page.evaluate(
        "() => Chart.getChart(document.querySelector('#instance-history canvas')).data.datasets[0].label"
    )
    assert "average" in label

    # the dropped database is greyed out with its date
    dropped = page.locator("tr[data-database-row='legacy_reports']")
    assert "capacity-deleted" in dropped.get_attribute("class")
    assert "DROPPED" in dropped.inner_text().upper()
    opacity = dropped.locator("td").first.evaluate("(el) => getComputedStyle(el).opacity")
    assert float(opacity) < 1

    # a click on a database draws its own history
    assert not page.locator("#database-history").is_visible()
    page.click("[data-database='payments']")
    page.wait_for_function(
        "() => { const c = document.querySelector('#database-history canvas');"
        " const chart = c && Chart.getChart(c); return chart && chart.data.labels.length > 0; }"
    )
    assert page.locator("#database-history").is_visible()
    assert "payments" in page.locator("#database-history [data-chart-title]").inner_text()
    assert ui.chart_points("#database-history canvas") == 91
    assert ui.painted_pixels("#database-history canvas") > 1000


@pytest.mark.mysql
def test_sync_capacity_button_on_real_mariadb(ui, mysql_box, mysql_instance):
    mysql_box.create_database("sales", tables=2, rows=800)
    page = ui.page
    ui.goto("/admin/instances/instance/")
    row = page.locator("#result_list tbody tr", has=page.locator(f"a:text-is('{mysql_instance.name}')"))
    size_cell = row.locator("[data-capacity-field='total']")
    assert size_cell.inner_text() == "—"

    row.locator("button[data-capacity-action='sync']").click()
    result = row.locator("[data-capacity-result]")
    page.wait_for_function(
        "(el) => el.classList.contains('capacity-result-ok') || el.classList.contains('capacity-result-error')",
        arg=result.element_handle(),
    )
    assert "capacity-result-ok" in result.get_attribute("class"), result.inner_text()
    total = sum(DatabaseSizeStat.objects.filter(instance=mysql_instance).values_list("size_bytes", flat=True))
    assert total > 0
    assert human_bytes(total) in result.inner_text()
    assert size_cell.inner_text() == human_bytes(total)
    assert row.locator("[data-capacity-field='status']").inner_text() == "OK"
    assert page.url.endswith("/admin/instances/instance/")  # never left the page
    assert row.locator("button[data-capacity-action='sync']").is_enabled()

    row.locator("button[data-capacity-action='test']").click()
    page.wait_for_function("(el) => /connected in|connection failed/.test(el.textContent)", arg=result.element_handle())
    assert "connected in" in result.inner_text()


def test_sync_capacity_button_shows_a_failure_inline(ui, make_instance):
    instance = make_instance("nobody-home", "mysql", port=1)
    page = ui.page
    ui.goto("/admin/instances/instance/")
    row = page.locator("#result_list tbody tr", has=page.locator("a:text-is('nobody-home')"))
    ui.expected_failures.append(f"502 POST {ui.base_url}/admin/instances/instance/{instance.pk}/sync-capacity/")
    row.locator("button[data-capacity-action='sync']").click()
    result = row.locator("[data-capacity-result]")
    page.wait_for_function("(el) => el.classList.contains('capacity-result-error')", arg=result.element_handle())
    assert "collection failed" in result.inner_text()
    assert row.locator("[data-capacity-field='status']").inner_text() == "Failed"


@pytest.mark.mysql
def test_sync_from_the_instance_page_redraws_its_chart(ui, mysql_box, mysql_instance):
    mysql_box.create_database("ledger", tables=1, rows=300)
    page = ui.page
    ui.goto(f"/admin/instances/instance/{mysql_instance.pk}/capacity/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#instance-history canvas'))")
    assert ui.chart_points("#instance-history canvas") == 0
    assert page.locator("#instance-history [data-chart-empty]").is_visible()
    page.click(".capacity-actions-bar button[data-capacity-action='sync']")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#instance-history canvas')).data.labels.length === 1"
    )
    total = sum(DatabaseSizeStat.objects.filter(instance=mysql_instance).values_list("size_bytes", flat=True))
    assert page.locator("#capacity-cards [data-capacity-field='total']").inner_text() == human_bytes(total)
    assert not page.locator("#instance-history [data-chart-empty]").is_visible()
