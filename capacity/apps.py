from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CapacityConfig(AppConfig):
    name = "capacity"
    verbose_name = _("Capacity")

    def ready(self):
        from common import sqlite  # noqa: F401  (connects its signal receiver)

        from . import (
            receivers,  # noqa: F401  (refreshes aggregates when a collection run finishes)
            schedules,  # also registers the cron system check
        )

        post_migrate.connect(schedules.on_post_migrate, sender=self, dispatch_uid="capacity.ensure_schedules")
