"""The engine options an instance may carry: a typed allowlist per engine.

Options end up in driver keyword arguments, a libpq connection string, an ODBC connection
string and an Oracle connect descriptor, so every key is declared with its type and a strict
pattern or choice list; anything else is refused. No option may name a file, library, dump or
trace on the platform host, except certificate files under ``settings.CAPACITY_CERTS_DIR``
(unset: no file options at all). ``odbc_driver`` is a driver *name* registered with unixODBC
(one of ``pyodbc.drivers()``), never a path.

``validate_options(db_type, options)`` runs on save (``Instance.clean()``, hence the API
serializer and the admin form) and returns the normalised options; it raises Django's
ValidationError whose messages name the option (``options.tds_version: …``). The engines run
it again just before connecting (``BaseEngine.connect``), so a value forced into the database
with ``update()`` or an older release is refused there too, as an ``unsupported`` failure: the
configuration asks for something the platform will not do, and retrying cannot help.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..choices import DbType, ErrorKind

#: Longest string any option may hold.
MAX_LENGTH = 255

_TDS_VERSION = re.compile(r"^(?:7\.[0-4]|8\.0)$")
# Oracle service names are dotted identifiers (db_unique_name.db_domain); SIDs are plain ones.
_ORACLE_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_$#.-]{0,127}$")
_ORACLE_SID = re.compile(r"^[A-Za-z][A-Za-z0-9_$#]{0,63}$")
_SSL_CIPHER = re.compile(r"^[A-Za-z0-9_+:!@.-]{1,255}$")
# Characters that end or open a value in an ODBC, libpq or TNS connect string.
_SEPARATORS = set(";{}=()")


class OptionError(Exception):
    """One option's problem; gathered into a ValidationError naming options.<key>.

    `parts` holds (sub-key, message) pairs for an option that is an object (MySQL's ssl).
    """

    def __init__(self, message: str = "", parts: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.parts = parts or []


@dataclass(frozen=True)
class Option:
    """An allowed key: a check that returns the normalised value or raises OptionError."""

    check: Callable[[Any], Any]
    help: str = ""


# --- checks -------------------------------------------------------------------------------------


def _text(value, *, forbid: set[str] = frozenset(), max_length: int = MAX_LENGTH) -> str:
    if not isinstance(value, str):
        raise OptionError(_("must be a string."))
    if not value.strip():
        raise OptionError(_("must not be empty."))
    if len(value) > max_length:
        raise OptionError(_("is longer than %(n)d characters.") % {"n": max_length})
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise OptionError(_("must not contain control characters."))
    bad = sorted(set(value) & set(forbid))
    if bad:
        raise OptionError(_("must not contain %(chars)s.") % {"chars": " ".join(repr(c) for c in bad)})
    return value


def _boolean(value) -> bool:
    if not isinstance(value, bool):
        raise OptionError(_("must be true or false."))
    return value


def _choice(*choices: str, case: Callable[[str], str] = str.lower):
    def check(value):
        text = _text(value)
        normalised = case(text.strip())
        if normalised not in choices:
            raise OptionError(_("must be one of %(choices)s.") % {"choices": ", ".join(choices)})
        return normalised

    return check


def _pattern(regex: re.Pattern, description: str):
    def check(value):
        text = _text(value, forbid=_SEPARATORS)
        if not regex.match(text):
            raise OptionError(str(description))
        return text

    return check


def certs_dir() -> Path | None:
    configured = getattr(settings, "CAPACITY_CERTS_DIR", None)
    return Path(configured).resolve() if configured else None


def resolve_cert_path(value: str, *, directory: bool = False) -> str:
    """The absolute path of a certificate option inside CAPACITY_CERTS_DIR, or OptionError.

    The value is a name relative to the directory (an absolute path is accepted when it lies
    inside it). Symbolic links are resolved first, so a link cannot lead outside.
    """
    base = certs_dir()
    if base is None:
        raise OptionError(_("file options are disabled: set CAPACITY_CERTS_DIR to the directory of certificates."))
    text = _text(value, max_length=1024)
    target = (base / text).resolve()
    if target != base and base not in target.parents:
        raise OptionError(_("must name a file inside CAPACITY_CERTS_DIR."))
    if directory and not target.is_dir():
        raise OptionError(_("names no directory inside CAPACITY_CERTS_DIR."))
    if not directory and not target.is_file():
        raise OptionError(_("names no file inside CAPACITY_CERTS_DIR."))
    return str(target)


def cert_path(value: str, *, directory: bool = False) -> str:
    """resolve_cert_path for an engine about to connect: EngineError `unsupported` when refused."""
    from .base import EngineError

    try:
        return resolve_cert_path(value, directory=directory)
    except OptionError as exc:
        raise EngineError(ErrorKind.UNSUPPORTED, _("Certificate option refused: %(msg)s") % {"msg": exc}) from None


def _cert_file(value) -> str:
    resolve_cert_path(value)
    return value


def _cert_directory(value) -> str:
    resolve_cert_path(value, directory=True)
    return value


def _pg_database(value) -> str:
    # libpq takes a dbname holding '=' or a URI as a whole connection string (which could set
    # sslkey, passfile, …), so neither is allowed in a database name here.
    text = _text(value, forbid={"="}, max_length=63)
    if "://" in text:
        raise OptionError(_("must be a database name, not a URI."))
    return text


def _sqlserver_database(value) -> str:
    # SQL Server names (sysname) hold up to 128 characters; braces would reach the ODBC string.
    return _text(value, forbid=set("{}"), max_length=128)


def _tds_version(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{value:.1f}"
    text = _text(value, forbid=_SEPARATORS)
    if not _TDS_VERSION.match(text):
        raise OptionError(_("must be a TDS protocol version from 7.0 to 7.4, or 8.0."))
    return text


def _encrypt(value):
    if isinstance(value, bool):
        return value
    return _choice("yes", "no", "strict")(value)


def _odbc_driver(value) -> str:
    text = _text(value, forbid=_SEPARATORS | {"/", "\\"})
    try:
        import pyodbc
    except (ImportError, OSError) as exc:
        raise OptionError(
            _("cannot be checked: the ODBC driver manager is not available on this server (%(err)s).") % {"err": exc}
        ) from None
    installed = list(pyodbc.drivers())
    if text not in installed:
        raise OptionError(
            _("ODBC driver %(driver)s is not installed on this server (installed: %(installed)s).")
            % {"driver": text, "installed": ", ".join(installed) or _("none")}
        )
    return text


_MYSQL_SSL_FILES = {"ca": _cert_file, "cert": _cert_file, "key": _cert_file, "capath": _cert_directory}


def _mysql_ssl(value):
    if isinstance(value, bool):
        return value
    if not isinstance(value, dict):
        raise OptionError(_("must be true, false or an object with ca, cert, key, capath, cipher."))
    cleaned, problems = {}, []
    for key, item in value.items():
        try:
            if key in _MYSQL_SSL_FILES:
                cleaned[key] = _MYSQL_SSL_FILES[key](item)
            elif key == "cipher":
                cleaned[key] = _pattern(_SSL_CIPHER, _("must be an OpenSSL cipher list."))(item)
            else:
                raise OptionError(_("is not an allowed key (allowed: ca, cert, key, capath, cipher)."))
        except OptionError as exc:
            problems.append((str(key)[:64], str(exc)))
    if problems:
        raise OptionError(parts=problems)
    return cleaned


# --- the allowlist ------------------------------------------------------------------------------

ALLOWED: dict[str, dict[str, Option]] = {
    DbType.POSTGRESQL: {
        "database": Option(_pg_database, "the database to log in to (default postgres)"),
        "sslmode": Option(_choice("disable", "allow", "prefer", "require", "verify-ca", "verify-full")),
        "sslrootcert": Option(_cert_file, "CA file under CAPACITY_CERTS_DIR"),
        "sslcert": Option(_cert_file, "client certificate under CAPACITY_CERTS_DIR"),
        "sslkey": Option(_cert_file, "client key under CAPACITY_CERTS_DIR"),
    },
    DbType.MYSQL: {
        "ssl": Option(_mysql_ssl, "true, or {ca, cert, key, capath} under CAPACITY_CERTS_DIR, cipher"),
        "ssl_mode": Option(
            _choice("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY", case=str.upper)
        ),
    },
    DbType.SQLSERVER: {
        "database": Option(_sqlserver_database, "the database to log in to (default master)"),
        "encrypt": Option(_encrypt, "yes, no, strict or a boolean"),
        "trust_server_certificate": Option(_boolean),
        "odbc_driver": Option(_odbc_driver, "a driver name from odbcinst -q -d"),
        "tds_version": Option(_tds_version, "FreeTDS protocol version, 7.0 to 7.4 or 8.0"),
    },
    DbType.ORACLE: {
        "service_name": Option(
            _pattern(_ORACLE_SERVICE, gettext_lazy("must be a service name (letters, digits, _ $ # . -)."))
        ),
        "sid": Option(_pattern(_ORACLE_SID, gettext_lazy("must be a SID (a letter, then letters, digits, _ $ #)."))),
        "protocol": Option(_choice("tcp", "tcps")),
    },
}


def validate_options(db_type: str, options) -> dict:
    """The options of an instance of `db_type`, checked against the allowlist and normalised.

    Keys whose value is null or "" are dropped (they mean "not set"). Raises
    ``django.core.exceptions.ValidationError({"options": [...]})`` with one message per
    problem, each starting with ``options.<key>:``.
    """
    if options is None or options == {}:
        return {}
    if not isinstance(options, dict):
        raise ValidationError({"options": [_("options: must be a JSON object.")]})
    allowed = ALLOWED.get(db_type)
    if allowed is None:
        raise ValidationError({"db_type": [_("Unknown database type: %(t)s") % {"t": db_type}]})
    cleaned, problems = {}, []
    for key, value in options.items():
        label = f"options.{key}" if isinstance(key, str) and len(key) <= 64 else "options"
        if key not in allowed:
            problems.append(
                _("%(field)s: is not an allowed option for %(engine)s (allowed: %(allowed)s).")
                % {"field": label, "engine": DbType(db_type).label, "allowed": ", ".join(allowed)}
            )
            continue
        if value is None or value == "":
            continue
        try:
            cleaned[key] = allowed[key].check(value)
        except OptionError as exc:
            if exc.parts:
                problems.extend(
                    _("%(field)s: %(error)s") % {"field": f"{label}.{sub}", "error": message}
                    for sub, message in exc.parts
                )
            else:
                problems.append(_("%(field)s: %(error)s") % {"field": label, "error": exc})
    if db_type == DbType.MYSQL and cleaned.get("ssl_mode") == "DISABLED" and cleaned.get("ssl"):
        problems.append(_("options.ssl_mode: DISABLED contradicts options.ssl."))
    if problems:
        raise ValidationError({"options": problems})
    return cleaned


def options_error_message(exc: ValidationError) -> str:
    """A ValidationError from validate_options as one line."""
    if hasattr(exc, "error_dict"):
        return " ".join(message for messages in exc.message_dict.values() for message in messages)
    return " ".join(exc.messages)
