"""Human-readable sizes (binary units), used by the command, the admin and the pages."""

from django.utils.formats import number_format

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
