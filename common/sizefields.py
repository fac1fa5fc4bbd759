"""Form and serializer fields for sizes kept in bytes that people type with units ("50 GiB").

The stored value stays an exact number of bytes; the API answers it as an integer.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from .units import MAX_BYTES, SizeError, format_size, parse_size

SIZE_HELP = _(
    "A size with a unit: 50 GiB (GiB = 2³⁰ bytes) or 500 GB (GB = 10⁹ bytes); KiB to PiB and KB to PB, "
    "any case. A bare number is bytes."
)


class ByteSizeFormField(forms.CharField):
    """Takes "50 GiB", "500 GB" or bytes; shows the current value as "50 GiB" (reads back exactly)."""

    def __init__(self, *, min_value: int | None = None, **kwargs):
        self.min_value = min_value
        kwargs.setdefault("help_text", SIZE_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "50 GiB", "spellcheck": "false"}))
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_size(value, exact=True)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            size = parse_size(value)
        except SizeError as exc:
            raise ValidationError(str(exc), code="invalid") from None
        if self.min_value is not None and size < self.min_value:
            raise ValidationError(
                _("Enter at least %(min)s.") % {"min": format_size(self.min_value, exact=True) or "0"},
                code="min_value",
            )
        return size

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != initial
        except ValidationError:
            return True


class ByteSizeField(serializers.Field):
    """A size in bytes: takes an integer or a string with a unit ("50 GiB"), answers an integer."""

    default_error_messages = {
        "min_value": _("Ensure this value is greater than or equal to {min} bytes."),
    }

    def __init__(self, *, min_value: int | None = None, **kwargs):
        self.min_value = min_value
        kwargs.setdefault("help_text", SIZE_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            size = parse_size(data)
        except SizeError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        if self.min_value is not None and size < self.min_value:
            self.fail("min_value", min=self.min_value)
        return size

    def to_representation(self, value):
        return int(value)


class ByteSizeFieldSchema(OpenApiSerializerFieldExtension):
    """In the OpenAPI schema: an integer in answers; an integer or a string with a unit in requests."""

    target_class = ByteSizeField

    def map_serializer_field(self, auto_schema, direction):
        integer = {"type": "integer", "format": "int64", "maximum": MAX_BYTES}
        if self.target.min_value is not None:
            integer["minimum"] = self.target.min_value
        if direction == "response":
            return integer
        return {
            "oneOf": [
                integer,
                {
                    "type": "string",
                    "pattern": r"^\s*\d+(\.\d+)?\s*([KkMmGgTtPp][Ii]?[Bb]|[Bb]|[Bb][Yy][Tt][Ee][Ss]?)?\s*$",
                    "example": "50 GiB",
                },
            ]
        }
