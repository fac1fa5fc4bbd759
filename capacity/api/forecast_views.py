"""GET /api/instances/{id}/forecast/: growth per day and forecasts, per database and for the instance."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.renderers import CSVExportMixin
from instances.models import Instance

from ..models import DatabaseSizeStat
from ..services.forecast import forecast_instance
from .forecast_serializers import FORECAST_CSV_HEADER, ForecastQuerySerializer, InstanceForecastSerializer


class InstanceForecastView(CSVExportMixin, APIView):
    """Least-squares growth over a window of daily rows, and what it means 30 and 90 days on."""

    # For ModelViewPermissions: reading it needs capacity.view_databasesizestat, like the history.
    queryset = DatabaseSizeStat.objects.all()
    csv_filename = "forecast"
    instance: Instance | None = None
    days: int | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Looked up only after the permission check, so ids do not leak to those who may not read.
        pk = kwargs["pk"]
        self.instance = Instance.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if self.instance is None:
            raise NotFound(_("No instance with id %(id)s.") % {"id": pk})
        query = ForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.days = query.validated_data["days"]

    def get_csv_header(self):
        return FORECAST_CSV_HEADER

    @extend_schema(
        summary=gettext_lazy("Growth and capacity forecast of an instance and its databases"),
        description=gettext_lazy(
            "A least-squares line through the daily sizes of the last `days` days up to the latest collection "
            "gives the growth per day (null with fewer than 2 daily rows); the forecasts add 30 and 90 days of "
            "that growth to the latest size. With a capacity limit on the instance, days_until_full says when "
            "the total reaches it. format=csv gives the instance row and one row per database."
        ),
        parameters=[
            # drf-spectacular shows the <pk> of the path as {id}.
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=gettext_lazy("Instance id")),
            ForecastQuerySerializer,
        ],
        responses=InstanceForecastSerializer,
    )
    def get(self, request, *args, **kwargs):
        forecast = forecast_instance(self.instance, days=self.days)
        data = InstanceForecastSerializer(forecast).data
        if self.wants_csv():
            named = {"instance_name": data["instance_name"]}
            rows = [{"scope": "instance", **named, **data["instance"]}]
            rows += [{"scope": "database", **named, **database} for database in data["databases"]]
            return self.csv_response(FORECAST_CSV_HEADER, rows)
        return Response(data)
