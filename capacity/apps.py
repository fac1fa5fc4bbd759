from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapacityConfig(AppConfig):
    name = "capacity"
    verbose_name = _("Capacity")

    def ready(self):
        from capacity_site import sqlite  # noqa: F401  (connects its signal receiver)
