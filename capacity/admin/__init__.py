"""Admin of capacity: the read-only history and its dashboard, and the instance admin with sizes."""

from . import history, instances, schedules  # noqa: F401  (registers the ModelAdmins)
