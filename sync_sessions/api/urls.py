from rest_framework.routers import SimpleRouter

from .views import SyncSessionViewSet

router = SimpleRouter()
router.register("sync-sessions", SyncSessionViewSet)

urlpatterns = router.urls
