from rest_framework.routers import SimpleRouter

from .views import CredentialViewSet

# /api/instances/ is routed by capacity (capacity/api/urls.py): its viewset extends InstanceViewSet
# with the latest sizes and the collect / test actions, so the instance routes have one owner.
router = SimpleRouter()
router.register("credentials", CredentialViewSet)

urlpatterns = router.urls
