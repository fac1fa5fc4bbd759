"""Status badges of the admin pages: the words and CSS class for a collection status."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The values of sync_sessions' RecordStatus and SessionStatus (plain strings: common imports no app).
_LABELS = {
    "completed": gettext_lazy("OK"),
    "failed": gettext_lazy("Failed"),
    "skipped": gettext_lazy("Skipped"),
    "running": gettext_lazy("Running"),
    "pending": gettext_lazy("Pending"),
    "partial": gettext_lazy("Partial"),
}


def status_badge(status: str) -> tuple[str, str]:
    """(label, css class) for an instance's last collection status or a session/record status."""
    if not status:
        return _("Never collected"), "capacity-status capacity-status-none"
    return str(_LABELS.get(status, status)), f"capacity-status capacity-status-{status}"


def choice_label(choices, value: str | None) -> str:
    """The words for a stored choice ("Connection", "Authentication"…), or the raw value if unknown."""
    if not value:
        return "—"
    return str(dict(choices).get(value, value))
