from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertingConfig(AppConfig):
    name = "alerting"
    verbose_name = _("Alerting")

    def ready(self):
        from . import receivers  # noqa: F401  (connects to capacity.signals.collection_finished)
