"""The admin pages with table sizes: a database's tables on the instance page, the dashboard's growers."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from capacity.services.collect import save_sizes
from common.formatting import human_bytes, signed_bytes
from instances.engines import CollectResult, DatabaseSize, TableSize
from instances.models import Instance

pytestmark = pytest.mark.django_db


def _collect(instance, when, sizes):
    tables = {"shop": [TableSize("public", name, 1, total, 0, None, total) for name, total in sizes.items()]}
    total = sum(sizes.values())
    save_sizes(
        instance,
        CollectResult([DatabaseSize("shop", total, total, allocated_size_bytes=total * 2)], tables=tables),
        when,
    )


@pytest.fixture
def shop(db):
    inst = Instance.objects.create(name="shop", db_type="postgresql", host="db1")
    now = timezone.now()
    _collect(inst, now - timedelta(days=8), {"orders": 1000, "items": 500})
    _collect(inst, now, {"orders": 5000, "items": 500})
    return inst


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw"))
    return client


def test_instance_page_lists_a_databases_tables_with_growth(admin_client, shop):
    page = reverse("admin:instances_instance_capacity", args=[shop.pk])
    html = admin_client.get(page).content.decode()
    assert 'id="capacity-tables"' not in html
    assert f"{page}?database=shop#capacity-tables" in html
    assert f"({human_bytes(11000)} on disk)" in html
    html = admin_client.get(page, {"database": "shop"}).content.decode()
    assert 'id="capacity-tables"' in html
    assert 'data-table-row="public.orders"' in html
    assert signed_bytes(4000) in html


def test_dashboard_lists_the_fastest_growing_tables(admin_client, shop):
    html = admin_client.get(reverse("admin:capacity_dashboard")).content.decode()
    section = html.split('id="top-tables-growth"', 1)[1].split("</section>", 1)[0]
    assert "public.orders" in section and signed_bytes(4000) in section
    assert "public.items" not in section
