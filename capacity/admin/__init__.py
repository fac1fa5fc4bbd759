"""Admin of capacity: the read-only history and its dashboard, and the instance admin with sizes."""

from . import history, instances  # noqa: F401  (registers the ModelAdmins)
