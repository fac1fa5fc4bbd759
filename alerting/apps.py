from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertingConfig(AppConfig):
    name = "alerting"
    verbose_name = _("Alerting")

    def ready(self):
        from common.net import allowlist

        from . import receivers  # noqa: F401  (connects to capacity.signals.collection_finished)

        allowlist()  # a malformed CAPACITY_WEBHOOK_ALLOWED_NETWORKS stops the start with the entry named
