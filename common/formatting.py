"""Human-readable sizes (binary units), MiB twins, durations and datetimes, used by the commands,
the admin pages and the API."""

from django.utils import formats, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

MIB = 1024 * 1024


def to_mib(value: int | None) -> float | None:
    """Bytes to MiB with two decimals; derived, never stored."""
    return None if value is None else round(value / MIB, 2)


_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


def human_bytes(value: int | float | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    sign = "-" if size < 0 else ""
    size = abs(size)
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{sign}{int(size)} B"
            # Round, not truncate: 1.999 GiB is "2.00 GiB".
            return f"{sign}{number_format(round(size, 2), 2)} {unit}"
        size /= 1024
    return f"{sign}{size} B"


def signed_bytes(value: int | None) -> str:
    if value is None:
        return "—"
    return f"+{human_bytes(value)}" if value > 0 else human_bytes(value)


def percent(part: int | None, whole: int | None) -> str:
    if part is None or not whole:
        return ""
    value = part * 100 / whole
    sign = "+" if value > 0 else ""
    return f"{sign}{number_format(value, 1)}%"


def growth_percent(growth: int | None, latest: int | None) -> str:
    """Growth relative to the size it grew from."""
    if growth is None or latest is None:
        return ""
    return percent(growth, latest - growth)


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    milliseconds = round(seconds * 1000)
    if milliseconds < 1000:  # "39 ms", not "0.0 s"
        return _("%(ms)d ms") % {"ms": milliseconds}
    if seconds < 59.95:  # number_format cuts decimals off: round first (1.99 s is "2.0 s")
        return _("%(s)s s") % {"s": number_format(round(seconds, 1), 1)}
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def local_datetime(value) -> str:
    """A datetime as the admin shows it: in TIME_ZONE, in the active language's format."""
    if value is None:
        return "—"
    return formats.localize(timezone.template_localtime(value))
