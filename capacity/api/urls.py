"""Every route of capacity's API in one list. An instance id is captured one way everywhere: any path
segment (ANY_ID), checked by the view after the permission check, so a bad id gets a JSON 404 and ids
do not leak to those who may not read. No route shadows another, so the order below does not matter."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from common.api.mixins import ANY_ID

from .forecast_views import InstanceForecastView
from .instance_views import InstanceCapacityViewSet
from .schedule_views import CapacityStatusView, DatabaseSizeAggregationView, PartitionCleanupView
from .views import CapacityStatsView, CollectView, DatabaseSizeViewSet, InstanceDatabaseViewSet, TableSizeViewSet

INSTANCE = rf"instances/(?P<instance_id>{ANY_ID})"
# The two plain views below name the id `pk`, as their published schema ({id}) always has.
INSTANCE_PK = rf"^instances/(?P<pk>{ANY_ID})"

router = SimpleRouter()
router.register("instances", InstanceCapacityViewSet, basename="instance")
router.register(rf"{INSTANCE}/database-sizes", DatabaseSizeViewSet, basename="database-size")
router.register(rf"{INSTANCE}/databases", InstanceDatabaseViewSet, basename="instance-database")
router.register(rf"{INSTANCE}/tables", TableSizeViewSet, basename="instance-table")

urlpatterns = [
    re_path(rf"{INSTANCE_PK}/forecast/$", InstanceForecastView.as_view(), name="instance-forecast"),
    re_path(
        rf"{INSTANCE_PK}/database-sizes/aggregations/$",
        DatabaseSizeAggregationView.as_view(),
        name="database-size-aggregations",
    ),
    path("capacity/stats/", CapacityStatsView.as_view(), name="capacity-stats"),
    path("capacity/collect/", CollectView.as_view(), name="capacity-collect"),
    path("capacity/status/", CapacityStatusView.as_view(), name="capacity-status"),
    path("capacity/partitions/cleanup/", PartitionCleanupView.as_view(), name="capacity-partitions-cleanup"),
    *router.urls,
]
