"""Admin list columns that show a byte count in binary units, sortable by the raw field."""

from django.contrib import admin

from .formatting import human_bytes


def size_column(field: str, description, sortable: bool = True):
    """A ModelAdmin display method for `field` (bytes) rendered as KiB…TiB."""

    @admin.display(description=description, ordering=field if sortable else None)
    def column(self, obj):
        return human_bytes(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column
