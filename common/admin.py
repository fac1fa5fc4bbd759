"""Admin building blocks every app uses: read-only model admins and byte-count columns."""

from django.contrib import admin

from .formatting import human_bytes


def size_column(field: str, description, sortable: bool = True):
    """A ModelAdmin display method for `field` (bytes) rendered as KiB…TiB."""

    @admin.display(description=description, ordering=field if sortable else None)
    def column(self, obj):
        return human_bytes(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services only (history, runs, alerts): staff look, nobody edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
