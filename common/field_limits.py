"""Size bounds of free-form fields (descriptions, engine options), for the API and the admin.

The JSON parser of the API (common.api.parsers) caps a whole request; these cap what one field
may store, so a row stays small enough to list, export and hand to an engine. `json.loads` recurses
in C for every nested array or object, so about a thousand levels raise RecursionError before any
validator runs: nesting is counted on the text first (`exceeds_depth`).

Attach them with one line: a serializer's `extra_kwargs = FIELD_LIMITS` (or one entry of it), a
ModelAdmin's `formfield_overrides = ADMIN_FIELD_LIMITS`.
"""

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

MAX_DESCRIPTION_CHARS = 10_000
MAX_OPTIONS_BYTES = 4 * 1024
MAX_OPTIONS_DEPTH = 4

# A JSON string literal, escapes included. The closing quote is optional, so an unterminated string
# is one match to the end of the text: a failed match is never retried from inside it, and the scan
# stays linear whatever the input (a mandatory quote made `"\\"\\"\\"…` quadratic).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# Depth does not care which kind of bracket: both become ( and ) (a mismatch stops the decoder anyway).
_PARENS = bytes.maketrans(b"[{]}", b"(())")


def exceeds_depth(text: str, limit: int) -> bool:
    """Whether arrays/objects in a JSON text nest deeper than `limit` (brackets inside strings do not count).

    Safe before decoding: wherever the decoder would recurse N levels, the text before that point is
    valid JSON, whose strings this scan delimits exactly, so it counts at least N there too. Each pass
    removes the innermost pairs, one level of every structure; what is left after `limit` passes is
    deeper than the limit or unbalanced. Linear and in C: at most `limit` passes of bytes.replace.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii").translate(_PARENS)
    passes = 0
    while brackets and passes < limit:
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            break
        brackets, passes = shorter, passes + 1
    if not brackets:
        return False
    if b"()" in brackets:
        return True
    # Only unbalanced brackets are left, `)...)(...(`: the text is not JSON. Each unclosed opener holds
    # everything after it, so the decoder may reach their number plus the pairs already removed before
    # it fails; let it report the error itself only while that stays within the limit.
    return brackets.count(b"(") + passes > limit


def _depth(value, limit: int, level: int = 0) -> int:
    """Nesting depth of lists/dicts in a decoded value (a scalar is 0), counting no further than limit + 1."""
    if level > limit or not isinstance(value, dict | list):
        return level
    children = value.values() if isinstance(value, dict) else value
    return max((_depth(child, limit, level + 1) for child in children), default=level + 1)


def _too_deep() -> ValidationError:
    return ValidationError(
        _("Options nest deeper than %(depth)d levels.") % {"depth": MAX_OPTIONS_DEPTH}, code="too_deep"
    )


def validate_options_size(value) -> None:
    """Engine options: at most MAX_OPTIONS_DEPTH levels of nesting and MAX_OPTIONS_BYTES as compact JSON."""
    if _depth(value, MAX_OPTIONS_DEPTH) > MAX_OPTIONS_DEPTH:
        raise _too_deep()
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_OPTIONS_BYTES:
        raise ValidationError(
            _("Options take %(size)s bytes as JSON; at most %(limit)s are allowed.")
            % {"size": f"{size:,}", "limit": f"{MAX_OPTIONS_BYTES:,}"},
            code="too_large",
        )


class BoundedJSONFormField(forms.JSONField):
    """A form's JSON field that refuses deep nesting before decoding and oversized options after."""

    default_validators = [validate_options_size]

    def to_python(self, value):
        if isinstance(value, str) and exceeds_depth(value, MAX_OPTIONS_DEPTH):
            raise _too_deep()
        return super().to_python(value)

    def bound_data(self, data, initial):
        # Shown back on the form as typed, never decoded (that decoding is what overflows).
        if not self.disabled and isinstance(data, str) and exceeds_depth(data, MAX_OPTIONS_DEPTH):
            return forms.fields.InvalidJSONInput(data)
        return super().bound_data(data, initial)


DESCRIPTION_LIMIT = {"max_length": MAX_DESCRIPTION_CHARS}
OPTIONS_LIMIT = {"validators": [validate_options_size]}
# For serializers (extra_kwargs): DRF runs Django validators and reports their messages per field.
FIELD_LIMITS = {"description": DESCRIPTION_LIMIT, "options": OPTIONS_LIMIT}
# For admin forms (formfield_overrides): every text area and JSON field of the model.
ADMIN_FIELD_LIMITS = {
    models.TextField: DESCRIPTION_LIMIT,
    models.JSONField: {"form_class": BoundedJSONFormField},
}
