"""A cheaper to_representation for list endpoints that answer many rows."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.settings import api_settings

_MISSING = object()


def _datetime_converter(field: serializers.DateTimeField):
    """DateTimeField.to_representation for aware datetimes in ISO 8601, with the zone looked up once.

    DRF looks up the current time zone for every value; within one serialization it does not change.
    Anything else (another format, naive values, strings) goes to the field itself.
    """
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if type(field).to_representation is not serializers.DateTimeField.to_representation:
        return field.to_representation
    if output_format is None or output_format.lower() != ISO_8601 or zone is None:
        return field.to_representation

    def convert(value):
        if getattr(value, "tzinfo", None) is None or value.utcoffset() is None:
            return field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


class FlatRowsMixin:
    """Serializes a row as DRF would, reading plain attributes without DRF's generic per-field walk.

    DRF resolves every field of every row through `get_attribute` (a dotted-path walk with its
    fallbacks) before calling the field's `to_representation`; on a page of rows that walk costs
    more than the values. Here each field is sorted once per serializer: a plain one (one attribute,
    not a method, nested or hyperlinked field) is read straight from the row's attributes and given to
    the field's own `to_representation`, so the JSON is the same; a foreign key answered as its id
    reads the `<name>_id` attribute, as DRF's primary-key optimisation does. Every other field, and a
    plain one whose attribute the row lacks (deferred, a property, an annotation not made), goes
    through DRF's own steps.
    """

    _flat_plan: list[tuple[str, str | None, object, serializers.Field]]

    def _flat_fields(self):
        try:
            return self._flat_plan
        except AttributeError:
            pass
        model = getattr(getattr(self, "Meta", None), "model", None)
        plan = []
        for field in self._readable_fields:
            attrs = field.source_attrs
            attr, convert = None, field.to_representation
            if len(attrs) != 1 or isinstance(field, serializers.SerializerMethodField | serializers.BaseSerializer):
                pass
            elif isinstance(field, PrimaryKeyRelatedField):
                if field.pk_field is None and model is not None:
                    try:
                        attr, convert = model._meta.get_field(attrs[0]).attname, None
                    except Exception:  # not a model field: DRF's way
                        attr = None
            elif not isinstance(field, serializers.RelatedField | serializers.ManyRelatedField):
                attr = attrs[0]
                if isinstance(field, serializers.DateTimeField):
                    convert = _datetime_converter(field)
            plan.append((field.field_name, attr, convert, field))
        self._flat_plan = plan
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        row = instance.__dict__
        ret = {}
        for name, attr, convert, field in self._flat_fields():
            value = _MISSING if attr is None else row.get(attr, _MISSING)
            if value is _MISSING:  # DRF's steps for this field
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                check = value.pk if isinstance(value, PKOnlyObject) else value
                ret[name] = None if check is None else field.to_representation(value)
            elif value is None:
                ret[name] = None
            else:
                ret[name] = value if convert is None else convert(value)
        return ret
