"""Routes of alert rules and alerts."""

from rest_framework.routers import SimpleRouter

from .views import AlertRuleViewSet, AlertViewSet

router = SimpleRouter()
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
