"""Field validators shared by the apps' models and serializers."""

from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

_WEBHOOK_URL = URLValidator(schemes=["http", "https"], message=_("Enter an http:// or https:// URL."))


def validate_webhook_url(value: str) -> None:
    """Webhooks are plain HTTP(S) POSTs: ftp://, file:// and the like are refused."""
    if value:
        _WEBHOOK_URL(value)
