"""Screenshots of the dashboard, an instance page and the instance list with months of generated history.

Always taken (and checked to be real pictures); written to docs/screenshots/ when
CAPACITY_SCREENSHOTS=1, e.g. `CAPACITY_SCREENSHOTS=1 .venv/bin/pytest tests/browser -k screenshot`.
"""

import os
from pathlib import Path

import pytest

from instances.models import Instance
from tests.ui.history import write_fleet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _target(tmp_path, name):
    if os.environ.get("CAPACITY_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS / name
    return tmp_path / name


def test_screenshots_of_dashboard_and_instance_page(ui, tmp_path, staff_user):
    instances = write_fleet(days=150, user=staff_user)
    # wiki-mysql-02 points at a port nobody listens on, as its failing status says
    Instance.objects.filter(name="wiki-mysql-02").update(port=1)
    page = ui.page

    ui.goto("/admin/capacity/instancesizestat/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#fleet-history canvas'))")
    assert ui.chart_points("#fleet-history canvas") > 0
    dashboard = _target(tmp_path, "dashboard.png")
    page.screenshot(path=str(dashboard), full_page=True)

    orders = next(i for i in instances if i.name == "orders-mysql-01")
    ui.goto(f"/admin/instances/instance/{orders.pk}/capacity/")
    page.click("[data-range-choice='all']")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#instance-history canvas')).data.labels.length > 100"
    )
    page.click("[data-database='orders']")
    page.wait_for_function(
        "() => { const c = document.querySelector('#database-history canvas');"
        " return c && Chart.getChart(c) && Chart.getChart(c).data.labels.length > 0; }"
    )
    instance_png = _target(tmp_path, "instance.png")
    page.screenshot(path=str(instance_png), full_page=True)

    ui.goto("/admin/instances/instance/")
    row = page.locator("#result_list tbody tr", has=page.locator("a:text-is('wiki-mysql-02')"))
    row.locator("button[data-capacity-action='test']").click()
    page.wait_for_function(
        "(el) => el.classList.contains('capacity-result-error')",
        arg=row.locator("[data-capacity-result]").element_handle(),
    )
    list_png = _target(tmp_path, "instances.png")
    page.screenshot(path=str(list_png), full_page=True)

    for png in (dashboard, instance_png, list_png):
        header = png.read_bytes()[:8]
        assert header == b"\x89PNG\r\n\x1a\n", png
        assert png.stat().st_size > 20_000, f"{png} looks empty"
