"""Serializers of the forecast endpoint."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.fields import MebibytesField
from common.api.rows import FlatRowsMixin

from ..services.forecast import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS


class ForecastQuerySerializer(serializers.Serializer):
    """The query string of the forecast endpoint."""

    days = serializers.IntegerField(
        required=False,
        default=DEFAULT_DAYS,
        min_value=MIN_DAYS,
        max_value=MAX_DAYS,
        help_text=_("Length of the window, in days, ending on the latest collection."),
    )


class TrendSerializer(serializers.Serializer):
    current_size_bytes = serializers.IntegerField(
        allow_null=True, help_text=_("Size on the latest collection, where the forecasts start.")
    )
    current_size_mb = MebibytesField(source="current_size_bytes", allow_null=True)
    growth_bytes_per_day = serializers.FloatField(
        allow_null=True,
        help_text=_("Slope of the least-squares line through the daily sizes of the window; null with fewer than 2."),
    )
    growth_mb_per_day = MebibytesField(source="growth_bytes_per_day", allow_null=True)
    predicted_size_bytes_30d = serializers.IntegerField(
        allow_null=True, help_text=_("Latest size plus 30 days of growth, never below 0.")
    )
    predicted_size_mb_30d = MebibytesField(source="predicted_size_bytes_30d", allow_null=True)
    predicted_size_bytes_90d = serializers.IntegerField(
        allow_null=True, help_text=_("Latest size plus 90 days of growth, never below 0.")
    )
    predicted_size_mb_90d = MebibytesField(source="predicted_size_bytes_90d", allow_null=True)
    sample_count = serializers.IntegerField(help_text=_("Daily rows in the window."))
    window_start = serializers.DateField(allow_null=True, help_text=_("First daily row used."))
    window_end = serializers.DateField(allow_null=True, help_text=_("Last daily row used."))


class DatabaseForecastSerializer(FlatRowsMixin, TrendSerializer):
    database_name = serializers.CharField()


class InstanceTrendSerializer(TrendSerializer):
    capacity_limit_bytes = serializers.IntegerField(allow_null=True)
    capacity_limit_mb = MebibytesField(source="capacity_limit_bytes", allow_null=True)
    footprint_bytes = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "What days_until_full starts from when the engine tells on-disk sizes: allocated bytes where "
            "known, the size elsewhere; null when no database has an allocated size."
        ),
    )
    days_until_full = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "Whole days from the latest collection until the instance reaches its capacity limit at the current "
            "growth: 0 when it is already there, null without a limit or when it is not growing."
        ),
    )


class InstanceForecastSerializer(serializers.Serializer):
    instance_id = serializers.IntegerField()
    instance_name = serializers.CharField()
    days = serializers.IntegerField()
    window_start = serializers.DateField(
        allow_null=True, help_text=_("First day of the window; null before the first collection.")
    )
    window_end = serializers.DateField(allow_null=True, help_text=_("The instance's latest collection."))
    instance = InstanceTrendSerializer(help_text=_("The instance total."))
    databases = DatabaseForecastSerializer(
        many=True, help_text=_("Each database of the latest collection, deleted ones left out.")
    )


# Columns of the CSV export: the instance total first (scope "instance"), then one row per database.
FORECAST_CSV_HEADER = [
    "scope",
    "instance_name",
    "database_name",
    *TrendSerializer().fields,
    "capacity_limit_bytes",
    "capacity_limit_mb",
    "days_until_full",
]
