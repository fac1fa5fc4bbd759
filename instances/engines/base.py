"""What every engine adapter offers, and the one error type callers ever see.

An adapter opens one connection with connect and query timeouts, reads the server version
and the size of every database in bytes, and closes on every path (it is a context
manager). Driver objects and driver exceptions never leave the adapter.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _

from ..choices import ErrorKind


class EngineError(Exception):
    """A one-line reason with its kind (connection, timeout, auth, permission, unsupported, data)."""

    def __init__(self, kind: str, message: str):
        self.kind = ErrorKind(kind).value
        self.message = " ".join(str(message).split()) or kind
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def names_login(text: str, username: str) -> bool:
    """Whether a server's refusal already names the login, so a message need not say it again."""
    return bool(username) and username.lower() in (text or "").lower()


@dataclass(frozen=True)
class ConnectionParams:
    """Everything needed to reach a target, with no model attached."""

    host: str
    port: int
    username: str
    password: str
    options: dict[str, Any] = field(default_factory=dict)
    connect_timeout: int = 10
    query_timeout: int = 60
    name: str = ""


@dataclass(frozen=True)
class DatabaseSize:
    """One database's size as read from the server's catalog, in bytes."""

    name: str
    size_bytes: int
    data_size_bytes: int
    index_size_bytes: int | None = None
    log_size_bytes: int | None = None
    is_system: bool = False
    #: What the database's files hold on disk, where the engine tells it (None: unknown).
    allocated_size_bytes: int | None = None
    #: Room allocated but unused inside those files (MySQL DATA_FREE, SQL Server unused pages,
    #: Oracle allocated minus used), where the engine tells it.
    free_size_bytes: int | None = None


@dataclass(frozen=True)
class TableSize:
    """One table's size, with its indexes and LOB/TOAST segments attributed to it, in bytes.

    total_size_bytes = data_size_bytes + index_size_bytes + (lob_size_bytes or 0).
    """

    schema_name: str
    table_name: str
    rows_estimate: int | None
    data_size_bytes: int
    index_size_bytes: int
    lob_size_bytes: int | None
    total_size_bytes: int


@dataclass
class CollectResult:
    """The databases read and any notes (a database skipped, one unreadable) for the record."""

    databases: list[DatabaseSize]
    warnings: list[str] = field(default_factory=list)
    #: Databases that exist but could not be measured (offline, no access): not "vanished".
    skipped: list[str] = field(default_factory=list)
    #: Every table of each collected database (database name -> tables), when tables were asked
    #: for; a database whose tables could not be read is missing here and named in warnings.
    tables: dict[str, list[TableSize]] = field(default_factory=dict)
    #: False when the login may not see every database (e.g. MySQL without SHOW DATABASES),
    #: so a database missing from `databases` and `skipped` must not be taken as dropped.
    listing_complete: bool = True
    #: With an incomplete listing: patterns (regular expressions) of the names the login would
    #: still see if they existed, e.g. MySQL schema grants. A database matching one that is not
    #: listed is really gone; one matching none may only have dropped out of the login's view.
    visible_patterns: list[re.Pattern] = field(default_factory=list)

    def would_list(self, name: str) -> bool:
        """Whether `name` would be in this listing if the database existed."""
        return self.listing_complete or any(p.fullmatch(name) for p in self.visible_patterns)


@dataclass(frozen=True)
class ConnectionTestResult:
    success: bool
    server_version: str = ""
    error: str = ""
    error_kind: str = ""
    elapsed_ms: int = 0


#: Seconds added to every per-instance time limit for what no timeout covers: DNS, the TLS
#: handshake after connect, closing, and the Python work between the round trips.
TIME_LIMIT_GRACE = 15


class BaseEngine(ABC):
    """Base class of the engine adapters; one subclass per db_type."""

    db_type: str = ""
    #: Modules and attributes the adapter needs; `unsupported` when the driver is missing.
    driver_name: str = ""
    #: Bounded queries the table read adds to a collection: 0 when the tables come with the
    #: size read itself, None when it is one query per database (then the table budget bounds it).
    table_round_trips: int | None = 0
    #: Bounded round trips of one collection (connect excluded): every statement sent after
    #: connecting, each of which the query timeout bounds on its own. Count honestly: a
    #: session SET is a round trip too.
    round_trips: int = 1

    @classmethod
    def time_limit(cls, connect_timeout: float, query_timeout: float) -> float:
        """The longest one collection of this engine can take while every timeout holds.

        ``connect_timeout + round_trips * query_timeout + TIME_LIMIT_GRACE`` seconds: the
        connect timeout bounds opening the connection, the query timeout bounds each round
        trip apart (server-side statement limits and driver read timeouts are per statement),
        and the grace covers what no timeout bounds. A watchdog that gives up earlier would
        declare a slow but healthy server timed out.
        """
        return float(connect_timeout) + cls.round_trips * float(query_timeout) + TIME_LIMIT_GRACE

    def __init__(self, params: ConnectionParams):
        self.params = params
        self._conn = None
        #: Set by list_database_sizes for adapters that read tables in the same statement as sizes.
        self.tables_requested = False

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> BaseEngine:
        self.connect()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def connect(self) -> None:
        if self._conn is not None:
            return
        self.params = replace(self.params, options=self.checked_options())
        try:
            self._conn = self._open()
        except EngineError:
            raise
        except Exception as exc:  # the driver's own exception: translate, never leak
            raise self.translate_error(exc) from exc

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection must not hide the real error
                pass

    def checked_options(self) -> dict:
        """The options validated again right before connecting (they may have been stored by
        an update() or an older release that did not check them): `unsupported` when invalid."""
        from django.core.exceptions import ValidationError

        from .options import options_error_message, validate_options

        try:
            return validate_options(self.db_type, self.params.options)
        except ValidationError as exc:
            raise EngineError(
                ErrorKind.UNSUPPORTED,
                _("Refusing to connect with invalid options: %(msg)s") % {"msg": options_error_message(exc)},
            ) from None

    # --- operations ------------------------------------------------------------------------
    def server_version(self) -> str:
        return self._guard(self._server_version)

    def list_database_sizes(self, *, tables: bool = False, table_budget_seconds: float | None = None) -> CollectResult:
        """Every database's size; with tables=True also every table of every collected database.

        The table read never fails the collection: what it cannot read (a database it may not
        enter, a query past the timeout, the table budget spent) becomes a warning, and the
        tables read so far are kept. table_budget_seconds bounds the table read as a whole,
        apart from the size read; None leaves it bounded by the query timeout of each query.
        """
        self.tables_requested = tables
        try:
            result = self._guard(self._list_database_sizes)
        finally:
            self.tables_requested = False
        for db in result.databases:
            if db.size_bytes < 0 or db.data_size_bytes < 0:
                raise EngineError(
                    ErrorKind.DATA, _("Negative size reported for database %(name)r.") % {"name": db.name}
                )
        if tables:
            deadline = None if table_budget_seconds is None else time.monotonic() + float(table_budget_seconds)
            try:
                self._guard(lambda: self._list_table_sizes(result, deadline))
            except EngineError as exc:
                result.warnings.append(_("Table sizes not read: %(msg)s") % {"msg": exc.message})
        return result

    def test_connection(self) -> ConnectionTestResult:
        """Open, read the version, close; never raises."""
        started = time.monotonic()
        try:
            with self:
                version = self.server_version()
        except EngineError as exc:
            return ConnectionTestResult(
                success=False,
                error=exc.message,
                error_kind=exc.kind,
                elapsed_ms=int((time.monotonic() - started) * 1000),
            )
        return ConnectionTestResult(
            success=True, server_version=version, elapsed_ms=int((time.monotonic() - started) * 1000)
        )

    def _redact(self, text: str) -> str:
        """A driver message with the password masked, for drivers that echo connection strings."""
        password = self.params.password
        return text.replace(password, "***") if password else text

    def _guard(self, fn):
        if self._conn is None:
            self.connect()
        try:
            return fn()
        except EngineError:
            raise
        except Exception as exc:
            raise self.translate_error(exc) from exc

    # --- to implement per engine -------------------------------------------------------------
    @abstractmethod
    def _open(self):
        """Open and return a DB-API connection with the timeouts applied."""

    @abstractmethod
    def _server_version(self) -> str:
        """The server's version string."""

    @abstractmethod
    def _list_database_sizes(self) -> CollectResult:
        """Every database with its size in bytes."""

    def _list_table_sizes(self, result: CollectResult, deadline: float | None) -> None:
        """Add result.tables for the databases in result (and warnings for those it cannot read).

        deadline is a time.monotonic() value past which no new table query may start. Adapters
        whose size read already filled result.tables (tables_requested) need not override it.
        """
        return None

    def translate_error(self, exc: Exception) -> EngineError:
        """Map a driver exception to an EngineError with the right kind."""
        return EngineError(ErrorKind.CONNECTION, f"{type(exc).__name__}: {exc}")
