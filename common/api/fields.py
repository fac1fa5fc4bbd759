"""Serializer fields shared by every app's API."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.formatting import to_mib


@extend_schema_field(OpenApiTypes.DOUBLE)
class MebibytesField(serializers.Field):
    """The MiB twin (2 decimals) of a size kept in bytes: `MebibytesField(source="size_bytes")`."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return to_mib(value)
