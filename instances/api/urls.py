from rest_framework.routers import SimpleRouter

from .views import CredentialViewSet, InstanceViewSet

router = SimpleRouter()
router.register("credentials", CredentialViewSet)
router.register("instances", InstanceViewSet)

urlpatterns = router.urls
