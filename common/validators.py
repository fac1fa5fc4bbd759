"""Field validators shared by the apps' models and serializers."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from . import net

_WEBHOOK_URL = URLValidator(schemes=["http", "https"], message=_("Enter an http:// or https:// URL."))


def validate_webhook_url(value: str) -> None:
    """Webhooks are plain HTTP(S) POSTs to a receiver the platform may reach (common/net.py).

    ftp://, file:// and the like are refused, and so is a host that resolves to a loopback, private,
    link-local, multicast, reserved or cloud metadata address (unless CAPACITY_WEBHOOK_ALLOWED_NETWORKS
    allows it). Delivery checks again, on every redirect.
    """
    if not value:
        return
    _WEBHOOK_URL(value)
    try:
        net.check_url(value)
    except net.UnsafeURL as exc:
        raise ValidationError(exc.message, code="unsafe_url") from None
