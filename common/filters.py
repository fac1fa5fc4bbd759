"""Filters every app's FilterSets share: strict booleans, ISO dates, id lists, date ranges."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0, yes/no); anything else is an error naming the parameter, never silently ignored."""

    widget = forms.TextInput
    TRUE = frozenset({"true", "1", "yes", "on"})
    FALSE = frozenset({"false", "0", "no", "off"})

    def to_python(self, value):
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(_("'%(value)s' is not true or false."), code="invalid", params={"value": value})

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class DateFilter(django_filters.DateFilter):
    """ISO dates only (2025-01-31): 01/02/2025 means different days to different readers."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(*args, **kwargs)


class KeyChoiceField(django_filters.fields.ModelMultipleChoiceField):
    """An id beyond the database's integer range is an unknown id (400), not a database error (500)."""

    BIGINT = 2**63

    def _check_values(self, value):
        for key in value if isinstance(value, list | tuple) else ():
            try:
                number = int(str(key).strip())
            except ValueError:
                continue  # not a number at all: the parent class says so
            if not -self.BIGINT <= number < self.BIGINT:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": key}
                )
        return super()._check_values(value)


class KeyMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """`<fk>_id=1&<fk>_id=2`: rows whose foreign key is one of the ids."""

    field_class = KeyChoiceField


class DateRangeForm(forms.Form):
    """Refuses a range whose end comes before its start."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and start > end:
            self.add_error("end_date", _("end_date must not be before start_date."))
        return cleaned
