from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncSessionsConfig(AppConfig):
    name = "sync_sessions"
    verbose_name = _("Sync sessions")
