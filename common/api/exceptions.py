"""Turn every error an API view raises into JSON that names the problem."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def _still_used(exc: ProtectedError | RestrictedError) -> Response:
    """Deleting something others still point at (a credential used by instances): 409, naming them."""
    blockers = sorted(
        str(obj) for obj in (exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects)
    )
    shown = ", ".join(blockers[:10]) + (" …" if len(blockers) > 10 else "")
    return Response(
        {"detail": _("It is still in use by: %(objects)s. Remove or change those first.") % {"objects": shown}},
        status=status.HTTP_409_CONFLICT,
    )


def _not_found_message(context) -> str | None:
    """ "No instance with id 42." for a detail view's lookup, instead of Django's generic wording."""
    view = context.get("view")
    kwargs = getattr(view, "kwargs", None) or {}
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    model = getattr(getattr(view, "queryset", None), "model", None)
    if model is None or lookup not in kwargs:
        return None
    field_name = getattr(view, "lookup_field", lookup)
    label = _("id") if field_name in ("pk", "id") else model._meta.get_field(field_name).verbose_name
    return _("No %(model)s with %(field)s %(value)s.") % {
        "model": model._meta.verbose_name,
        "field": label,
        "value": kwargs[lookup],
    }


def api_exception_handler(exc, context):
    if isinstance(exc, ProtectedError | RestrictedError):
        return _still_used(exc)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404) and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": _not_found_message(context) or str(response.data["detail"])}
    if response.status_code == status.HTTP_400_BAD_REQUEST and not isinstance(response.data, dict):
        response.data = {"detail": response.data}
    return response
