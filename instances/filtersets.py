"""One FilterSet per model, shared by the API and any list page."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common.filters import BooleanFilter, KeyMultipleChoiceFilter

from .choices import DbType, ErrorKind
from .models import Credential, Instance


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
    collect_tables = BooleanFilter(label=_("Collect table sizes (as set on the instance; unset matches neither)"))
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
            "collect_tables",
            "last_sync_status",
            "last_sync_error_kind",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(host__icontains=value) | Q(description__icontains=value))
