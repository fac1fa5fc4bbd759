"""Byte sizes typed and shown with units: "50 GiB", "500 GB", "1.5 TiB", "52428800".

Binary units are powers of two (KiB = 2¹⁰ … PiB = 2⁵⁰), decimal units powers of ten
(KB = 10³ … PB = 10¹⁵), as IEC 80000-13 has it; units are case-insensitive and a bare number
is bytes. A size is a whole number of bytes from 0 to the largest BigIntegerField value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MAX_BYTES = 2**63 - 1  # the largest value a BigIntegerField (signed 64-bit) holds

BINARY_UNITS = [("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)]
DECIMAL_UNITS = [("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)]
_FACTORS = {name.lower(): factor for name, factor in BINARY_UNITS + DECIMAL_UNITS} | {
    "b": 1,
    "byte": 1,
    "bytes": 1,
}
UNIT_NAMES = "B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB"

_SIZE = re.compile(r"^(?P<sign>[+-]?)(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[A-Za-z]*)$")


class SizeError(ValueError):
    """A size that cannot be read; the message says why, for the person who typed it."""


def parse_size(value: str | int | float) -> int:
    """Bytes from "50 GiB", "500 GB", "1.5 TiB", "50GiB", "52428800" or an int; SizeError if not a size."""
    if isinstance(value, bool):
        raise SizeError(
            _("Enter a size such as 50 GiB, 500 GB or a number of bytes, not %(value)s.") % {"value": value}
        )
    if isinstance(value, int):
        return _checked(Decimal(value), str(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SizeError(
                _("Enter a size such as 50 GiB, 500 GB or a number of bytes, not %(value)s.") % {"value": value}
            )
        return _checked(Decimal(repr(value)), repr(value))
    if not isinstance(value, str):
        raise SizeError(_("Enter a size such as 50 GiB, 500 GB or a number of bytes."))
    text = value.strip()
    match = _SIZE.match(text)
    if not match:
        if not text:
            raise SizeError(_("Enter a size such as 50 GiB, 500 GB or a number of bytes."))
        raise SizeError(
            _("%(value)s is not a size: write a number and a unit (%(units)s), e.g. 50 GiB.")
            % {"value": _quoted(text), "units": UNIT_NAMES}
        )
    unit = match["unit"]
    factor = _FACTORS.get(unit.lower(), None) if unit else 1
    if factor is None:
        raise SizeError(
            _("%(unit)s is not a size unit: use one of %(units)s (KiB = 1024 bytes, KB = 1000 bytes).")
            % {"unit": _quoted(unit), "units": UNIT_NAMES}
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the pattern only lets decimal numbers through
        raise SizeError(_("%(value)s is not a size.") % {"value": _quoted(text)}) from None
    if match["sign"] == "-":
        number = -number
    return _checked(number * factor, text)


def _checked(size: Decimal, text: str) -> int:
    if size < 0:
        raise SizeError(_("A size cannot be negative (%(value)s).") % {"value": text})
    if size != size.to_integral_value():
        raise SizeError(
            _("%(value)s is %(bytes)s bytes: a size is a whole number of bytes.")
            % {"value": text, "bytes": format(size.normalize(), "f")}
        )
    if size > MAX_BYTES:
        raise SizeError(
            _("%(value)s is more than the largest size the platform stores (%(max)s bytes, about 8 EiB).")
            % {"value": text, "max": MAX_BYTES}
        )
    return int(size)


def _quoted(text: str) -> str:
    return '"' + (text if len(text) <= 40 else text[:40] + "…") + '"'


def _trimmed(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_size(value: int | None, *, exact: bool = False) -> str:
    """A size for people: "50 GiB", "1.5 TiB", "14.2 MiB", "512 B".

    Rounded to at most one decimal in the largest binary unit it reaches (three or four
    significant digits), trailing zeros dropped. With `exact=True` the text reads back as the
    same number of bytes (what a form shows to be submitted again): the shortest of the exact
    binary and decimal forms ("50 GiB", "500 GB", "1.5 TiB"), or the bare number of bytes.
    """
    if value is None:
        return ""
    value = int(value)
    if exact:
        return _exact(value)
    sign = "-" if value < 0 else ""
    size = abs(value)
    for name, factor in BINARY_UNITS:
        if size >= factor:
            scaled = (Decimal(size) / factor).quantize(Decimal("0.1"))
            if scaled >= 1024 and name != "PiB":  # 1023.96 GiB rounds to 1 TiB, not "1024 GiB"
                bigger = BINARY_UNITS[BINARY_UNITS.index((name, factor)) - 1]
                return f"{sign}{_trimmed((Decimal(size) / bigger[1]).quantize(Decimal('0.1')))} {bigger[0]}"
            return f"{sign}{_trimmed(scaled)} {name}"
    return f"{sign}{size} B"


def _exact(value: int) -> str:
    candidates = [str(value)]
    for name, factor in BINARY_UNITS + DECIMAL_UNITS:
        if abs(value) >= factor:
            scaled = Decimal(value) / factor
            # Exact in at most three decimals: 1.5 TiB, 1.125 GiB.
            if scaled == scaled.quantize(Decimal("0.001")):
                candidates.append(f"{_trimmed(scaled)} {name}")
    return min(candidates, key=len)  # a tie keeps the bare number: 1000, not 1 KB
