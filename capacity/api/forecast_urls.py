"""Route of the forecast endpoint (included before the routers)."""

from django.urls import path

from .forecast_views import InstanceForecastView

urlpatterns = [
    path("instances/<str:pk>/forecast/", InstanceForecastView.as_view(), name="instance-forecast"),
]
