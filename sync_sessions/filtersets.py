"""One FilterSet per model of the sync_sessions app."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common.filters import DateFilter, DateRangeForm, KeyMultipleChoiceFilter
from instances.choices import ErrorKind
from instances.models import Instance

from .choices import RecordStatus, SessionStatus, SyncCategory, SyncType
from .models import SyncInstanceRecord, SyncSession


class SyncSessionFilterSet(django_filters.FilterSet):
    session_id = django_filters.UUIDFilter(label=_("Session ID"))
    sync_type = django_filters.MultipleChoiceFilter(choices=SyncType.choices, label=_("Sync type"))
    category = django_filters.MultipleChoiceFilter(choices=SyncCategory.choices, label=_("Category"))
    status = django_filters.MultipleChoiceFilter(choices=SessionStatus.choices, label=_("Status"))
    start_date = DateFilter(field_name="started_at", lookup_expr="date__gte", label=_("From date"))
    end_date = DateFilter(field_name="started_at", lookup_expr="date__lte", label=_("To date"))
    created_by_id = KeyMultipleChoiceFilter(
        field_name="created_by", queryset=get_user_model().objects.all(), label=_("Started by (ID)")
    )
    created_by = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="created_by__username",
            to_field_name="username",
            queryset=get_user_model().objects.all(),
            label=_("Started by (username)"),
        )
    )
    instance_id = KeyMultipleChoiceFilter(
        field_name="records__instance", queryset=Instance.objects.all(), distinct=True, label=_("Instance (ID)")
    )
    instance = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="records__instance__name",
            to_field_name="name",
            queryset=Instance.objects.all(),
            distinct=True,
            label=_("Instance (name)"),
        )
    )

    class Meta:
        model = SyncSession
        form = DateRangeForm
        fields = [
            "id",
            "session_id",
            "sync_type",
            "category",
            "status",
            "start_date",
            "end_date",
            "created_by_id",
            "created_by",
            "instance_id",
            "instance",
        ]


class SyncInstanceRecordFilterSet(django_filters.FilterSet):
    session_id = django_filters.UUIDFilter(field_name="session__session_id", label=_("Session ID"))
    instance_id = KeyMultipleChoiceFilter(
        field_name="instance", queryset=Instance.objects.all(), label=_("Instance (ID)")
    )
    instance = django_filters.CharFilter(field_name="instance_name", label=_("Instance (name)"))
    status = django_filters.MultipleChoiceFilter(choices=RecordStatus.choices, label=_("Status"))
    error_kind = django_filters.MultipleChoiceFilter(choices=ErrorKind.choices, label=_("Error kind"))

    class Meta:
        model = SyncInstanceRecord
        fields = ["id", "session_id", "instance_id", "instance", "status", "error_kind"]
