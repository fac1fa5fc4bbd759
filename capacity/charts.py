"""Chart helpers of the admin pages: ranges and periods, units, and Chart.js payloads of the series."""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.formatting import human_bytes
from instances.models import Instance

from .queries import RANGE_DAYS, fleet_series, instance_series

RANGE_CHOICES = [
    ("30d", gettext_lazy("30 days")),
    ("90d", gettext_lazy("90 days")),
    ("1y", gettext_lazy("1 year")),
    ("all", gettext_lazy("All")),
]
PERIOD_CHOICES = [
    ("day", gettext_lazy("Daily")),
    ("week", gettext_lazy("Weekly")),
    ("month", gettext_lazy("Monthly")),
]
DEFAULT_RANGE = "90d"
DEFAULT_PERIOD = "day"
GROWTH_WINDOWS = (7, 30)
# or two must not dip the fleet curve; an instance silent for longer drops out of it.
TOP_N = 10
RECENT_SESSIONS = 10

_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


class BadParameter(ValueError):
    """A query-string value the JSON views cannot use; its message names the problem."""


# --- chart payloads ----------------------------------------------------------------------------


def chart_unit(values) -> tuple[int, str]:
    """The binary unit that keeps the largest value of a series between 1 and 1024."""
    peak = max((abs(v) for v in values if v is not None), default=0)
    exponent = 0
    while peak >= 1024 and exponent < len(_UNITS) - 1:
        peak /= 1024
        exponent += 1
    return 1024**exponent, _UNITS[exponent]


def chart_payload(labels, datasets, **extra) -> dict:
    """Points for Chart.js: values scaled to one readable unit, exact sizes as tooltip text.

    `datasets` is a list of (label, [bytes or None, ...]) with one value per label.
    """
    divisor, unit = chart_unit(v for _label, values in datasets for v in values)
    return {
        "labels": [str(label) for label in labels],
        "unit": unit,
        "datasets": [
            {
                "label": str(label),
                "values": [None if v is None else round(v / divisor, 3) for v in values],
                "human": [human_bytes(v) for v in values],
            }
            for label, values in datasets
        ],
        **extra,
    }


def period_label(day: date, period: str) -> str:
    if period == "month":
        return date_format(day, "YEAR_MONTH_FORMAT")
    # The page's other dates use DATE_FORMAT/DATETIME_FORMAT: one way of writing a day per page.
    return date_format(day, "DATE_FORMAT")


def parse_range(value: str | None) -> str:
    value = value or DEFAULT_RANGE
    if value not in RANGE_DAYS:
        raise BadParameter(
            _("Unknown range '%(value)s'; use one of %(choices)s.") % {"value": value, "choices": ", ".join(RANGE_DAYS)}
        )
    return value


def parse_period(value: str | None) -> str:
    value = value or DEFAULT_PERIOD
    periods = [key for key, _label in PERIOD_CHOICES]
    if value not in periods:
        raise BadParameter(
            _("Unknown period '%(value)s'; use one of %(choices)s.") % {"value": value, "choices": ", ".join(periods)}
        )
    return value


def instance_chart(instance: Instance, range_key: str, period: str, database: str | None = None) -> dict:
    points = instance_series(instance, range_key, period, database)
    label = database or _("Total size")
    if period != "day":
        label = _("%(what)s, average of the %(period)s") % {
            "what": label,
            "period": _("week") if period == "week" else _("month"),
        }
    return chart_payload(
        [period_label(d, period) for d, _v in points],
        [(label, [v for _d, v in points])],
        range=range_key,
        period=period,
        database=database or "",
    )


def fleet_chart(range_key: str, period: str) -> dict:
    points = fleet_series(range_key, period)
    return chart_payload(
        [period_label(d, period) for d, _v in points],
        [(_("Fleet total"), [v for _d, v in points])],
        range=range_key,
        period=period,
    )
