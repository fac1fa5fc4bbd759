"""Every API route under /api/."""

urlpatterns = []
