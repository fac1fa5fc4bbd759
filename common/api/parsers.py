"""The API's JSON parser: bounded body size and nesting depth, checked before anything is decoded.

DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never sees an API
body. And `json.loads` recurses in C for every nested array or object: about a thousand levels
raise RecursionError (a 500) before any object_hook could object. So the body is read up to
`API_MAX_BODY_BYTES` (one byte more means 413) and its bracket depth outside strings is counted
(more than `API_MAX_JSON_DEPTH` means 400) before `json.loads` sees it.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from common.field_limits import exceeds_depth


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    """JSONParser that refuses a body over API_MAX_BODY_BYTES (413) or nested over API_MAX_JSON_DEPTH (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.API_MAX_BODY_BYTES
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise self._too_large(limit)
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise self._too_large(limit)

        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(
                _("JSON parse error - the body is not valid %(encoding)s: %(error)s")
                % {
                    "encoding": encoding,
                    "error": exc,
                }
            )
        depth = settings.API_MAX_JSON_DEPTH
        if exceeds_depth(text, depth):
            raise ParseError(
                _("JSON parse error - arrays and objects nest deeper than %(depth)d levels.") % {"depth": depth}
            )
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc})

    @staticmethod
    def _too_large(limit: int) -> RequestBodyTooLarge:
        return RequestBodyTooLarge(
            _("The request body is larger than %(limit)s bytes (API_MAX_BODY_BYTES).") % {"limit": f"{limit:,}"}
        )
