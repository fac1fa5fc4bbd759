"""A cheaper to_representation for list endpoints that answer many flat, read-only rows."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.relations import PrimaryKeyRelatedField


class FlatRowsMixin:
    """Serializes a row the way DRF would, without DRF's generic per-field walk.

    DRF resolves every field of every row through `get_attribute` (a dotted-path walk with its
    fallbacks) before calling the field's `to_representation`; on a page of rows that walk costs
    more than the values. Here each field is resolved once per serializer to (key, attribute,
    converter), the converter being the field's own `to_representation`, so the JSON is the same.
    A foreign key to its id reads the `<name>_id` attribute, as DRF's primary-key optimisation does.

    Only plain fields qualify: one attribute each, no method fields, no nested or hyperlinked
    fields, no pk_field. A serializer with any other field, a row that is a mapping, or an attribute
    the row lacks (a field's default applies then) goes through DRF's own code.
    """

    _flat_plan: list[tuple[str, str, object]] | None

    def _flat_fields(self):
        try:
            return self._flat_plan
        except AttributeError:
            pass
        plan = []
        model = getattr(getattr(self, "Meta", None), "model", None)
        for field in self._readable_fields:
            attrs = field.source_attrs
            if len(attrs) != 1 or isinstance(field, serializers.SerializerMethodField | serializers.BaseSerializer):
                plan = None
                break
            if isinstance(field, PrimaryKeyRelatedField):
                if field.pk_field is not None or model is None:
                    plan = None
                    break
                plan.append((field.field_name, model._meta.get_field(attrs[0]).attname, None))
            elif isinstance(field, serializers.RelatedField | serializers.ManyRelatedField):
                plan = None
                break
            else:
                plan.append((field.field_name, attrs[0], field.to_representation))
        self._flat_plan = plan
        return plan

    def to_representation(self, instance):
        plan = self._flat_fields()
        if plan is None or isinstance(instance, Mapping):
            return super().to_representation(instance)
        row = instance.__dict__
        ret = {}
        for name, attr, convert in plan:
            try:
                value = row[attr]
            except KeyError:
                return super().to_representation(instance)
            if value is None:
                ret[name] = None
            elif convert is None:
                ret[name] = value
            else:
                ret[name] = convert(value)
        return ret
