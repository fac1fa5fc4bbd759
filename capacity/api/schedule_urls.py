"""Routes of the aggregation, status and clean-up endpoints (included before the routers)."""

from django.urls import path

from .schedule_views import CapacityStatusView, DatabaseSizeAggregationView, PartitionCleanupView

urlpatterns = [
    path(
        "instances/<int:pk>/database-sizes/aggregations/",
        DatabaseSizeAggregationView.as_view(),
        name="database-size-aggregations",
    ),
    path("capacity/status/", CapacityStatusView.as_view(), name="capacity-status"),
    path("capacity/partitions/cleanup/", PartitionCleanupView.as_view(), name="capacity-partitions-cleanup"),
]
