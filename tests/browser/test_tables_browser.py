"""The instance page lists a database's largest tables, collected from the live MariaDB."""

import pytest
from django.test import override_settings

from capacity.models import TableSizeStat
from capacity.services.collect import collect
from common.formatting import human_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.mysql
def test_instance_page_shows_a_databases_top_tables(ui, mysql_box, mysql_instance):
    db = mysql_box.create_database("shop", tables=3, rows=400)
    mysql_instance.collect_tables = True
    mysql_instance.save()
    with override_settings(CAPACITY_TABLES_TOP_N=2):
        collect([mysql_instance])
    kept = TableSizeStat.objects.filter(instance=mysql_instance, database_name=db, is_other=False)
    assert kept.count() == 2

    page = ui.page
    ui.goto(f"/admin/instances/instance/{mysql_instance.pk}/capacity/")
    assert page.locator("#capacity-tables").count() == 0
    page.locator(f"a[data-database-tables='{db}']").click()
    section = page.locator("#capacity-tables")
    section.wait_for()
    assert db in section.locator("h2").inner_text()
    for table in kept:
        row = section.locator(f"tr[data-table-row='{db}.{table.table_name}']")
        assert human_bytes(table.total_size_bytes) in row.inner_text()
    other = section.locator("tr[data-table-row='(other)']")
    assert "1 other table" in other.inner_text()
    assert not ui.console_errors and not ui.failed_responses
