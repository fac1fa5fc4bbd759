"""Admin pages of capacity: plain functions taking the ModelAdmin that mounts them, so they get the
admin's context, permissions and login handling (see capacity/admin.py)."""
