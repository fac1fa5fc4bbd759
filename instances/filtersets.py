"""One FilterSet per model, shared by the API and any list page."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import DbType, ErrorKind
from .models import Credential, Instance


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


class CredentialFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    name = django_filters.CharFilter(lookup_expr="iexact", label=_("Name"))
    username = django_filters.CharFilter(lookup_expr="iexact", label=_("Username"))
    description = django_filters.CharFilter(lookup_expr="icontains", label=_("Description"))
    has_password = BooleanFilter(method="filter_has_password", label=_("Has a password"))

    class Meta:
        model = Credential
        fields = ["id", "name", "username", "description", "has_password"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(username__icontains=value))

    def filter_has_password(self, queryset, name, value):
        return queryset.exclude(password="") if value else queryset.filter(password="")


class InstanceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    name = django_filters.CharFilter(lookup_expr="iexact", label=_("Name"))
    db_type = django_filters.MultipleChoiceFilter(choices=DbType.choices, label=_("Database type"))
    host = django_filters.CharFilter(lookup_expr="iexact", label=_("Host"))
    is_active = BooleanFilter(label=_("Active"))
    description = django_filters.CharFilter(lookup_expr="icontains", label=_("Description"))
    credential_id = KeyMultipleChoiceFilter(
        field_name="credential", queryset=Credential.objects.all(), label=_("Credential (ID)")
    )
    credential = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="credential__name",
            to_field_name="name",
            queryset=Credential.objects.all(),
            label=_("Credential (name)"),
        )
    )
    last_sync_status = django_filters.CharFilter(label=_("Last collection status"))
    last_sync_error_kind = django_filters.MultipleChoiceFilter(choices=ErrorKind.choices, label=_("Last error kind"))

    class Meta:
        model = Instance
        fields = [
            "id",
            "name",
            "db_type",
            "host",
            "port",
            "is_active",
            "description",
            "credential_id",
            "credential",
            "last_sync_status",
            "last_sync_error_kind",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(host__icontains=value) | Q(description__icontains=value))
