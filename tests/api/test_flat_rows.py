"""FlatRowsMixin answers exactly what DRF's own to_representation answers, row for row."""

import json

import pytest
from rest_framework import serializers

from capacity.api.serializers import DatabaseSizeStatSerializer
from capacity.api.views import DatabaseSizeViewSet
from capacity.models import DatabaseSizeStat
from tests.ui.history import GIB, MIB, DatabasePlan, InstancePlan, write_history

pytestmark = pytest.mark.django_db


class PlainDRF(DatabaseSizeStatSerializer):
    def to_representation(self, instance):
        return serializers.ModelSerializer.to_representation(self, instance)


def history():
    return write_history(
        InstancePlan(
            name="orders",
            db_type="mysql",
            days=12,
            databases=[
                DatabasePlan("sales", 5 * GIB, 20 * MIB),
                DatabasePlan("mysql", 10 * MIB, 0, is_system=True),
                DatabasePlan("old", GIB, MIB, dropped_days_ago=3),
            ],
        )
    )


def as_json(data) -> str:
    return json.dumps(data, sort_keys=False)


def test_the_rows_of_the_api_serialize_as_drf_would(db):
    history()
    rows = list(DatabaseSizeViewSet.queryset.all())
    assert any(r.is_deleted for r in rows) and any(r.is_system for r in rows)
    assert as_json(DatabaseSizeStatSerializer(rows, many=True).data) == as_json(PlainDRF(rows, many=True).data)


def test_a_row_without_the_annotation_or_with_deferred_fields_falls_back_to_drf(db):
    history()
    plain = list(DatabaseSizeStat.objects.order_by("pk"))  # no is_system annotation: its default, False
    deferred = list(DatabaseSizeStat.objects.order_by("pk").defer("collected_at"))
    for rows in (plain, deferred):
        fast = DatabaseSizeStatSerializer(rows, many=True).data
        assert as_json(fast) == as_json(PlainDRF(rows, many=True).data)
    assert all(row["is_system"] is False for row in DatabaseSizeStatSerializer(plain, many=True).data)


def test_instances_with_and_without_a_credential_serialize_as_drf_would(db):
    from capacity.api.instance_views import InstanceCapacityViewSet
    from capacity.api.serializers import InstanceSerializer
    from instances.models import Credential, Instance

    history()
    credential = Credential.objects.create(name="reader", username="reader")
    Instance.objects.create(name="bare", db_type="postgresql", host="db2.example.com", port=5432)
    Instance.objects.filter(name="orders").update(credential=credential, capacity_limit_bytes=100 * GIB)

    class PlainInstances(InstanceSerializer):
        def to_representation(self, instance):
            return serializers.ModelSerializer.to_representation(self, instance)

    rows = list(InstanceCapacityViewSet.queryset.all())
    assert len(rows) == 2
    assert as_json(InstanceSerializer(rows, many=True).data) == as_json(PlainInstances(rows, many=True).data)


def test_database_forecasts_serialize_as_drf_would(db):
    from capacity.api.forecast_serializers import DatabaseForecastSerializer
    from capacity.services.forecast import forecast_instance

    forecast = forecast_instance(history(), days=7)
    assert len(forecast.databases) == 2  # the dropped one is left out

    class PlainForecasts(DatabaseForecastSerializer):
        def to_representation(self, instance):
            return serializers.Serializer.to_representation(self, instance)

    rows = forecast.databases
    assert as_json(DatabaseForecastSerializer(rows, many=True).data) == as_json(PlainForecasts(rows, many=True).data)


def test_times_in_another_current_zone_serialize_as_drf_would(db):
    from django.utils import timezone

    history()
    rows = list(DatabaseSizeViewSet.queryset.filter(is_deleted=True)) + list(DatabaseSizeViewSet.queryset[:3])
    assert any(r.deleted_at for r in rows)
    with timezone.override("Asia/Shanghai"):
        fast = as_json(DatabaseSizeStatSerializer(rows, many=True).data)
        assert fast == as_json(PlainDRF(rows, many=True).data)
        assert "+08:00" in fast
