from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CapacityStatsView, CollectView, DatabaseSizeViewSet, InstanceDatabaseViewSet

router = SimpleRouter()
router.register(r"instances/(?P<instance_id>[^/]+)/database-sizes", DatabaseSizeViewSet, basename="database-size")
router.register(r"instances/(?P<instance_id>[^/]+)/databases", InstanceDatabaseViewSet, basename="instance-database")

urlpatterns = [
    path("capacity/stats/", CapacityStatsView.as_view(), name="capacity-stats"),
    path("capacity/collect/", CollectView.as_view(), name="capacity-collect"),
    *router.urls,
]
