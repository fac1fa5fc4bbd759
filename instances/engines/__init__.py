"""Engine adapters, one module per db_type, behind `get_engine`."""

from importlib import import_module

from django.conf import settings
from django.utils.translation import gettext as _

from ..choices import DbType, ErrorKind
from .base import (
    BaseEngine,
    CollectResult,
    ConnectionParams,
    ConnectionTestResult,
    DatabaseSize,
    EngineError,
    TableSize,
)

#: What to install when an engine's driver cannot be loaded, for the `unsupported` message.
DRIVER_HINTS = {
    DbType.MYSQL: "mysqlclient (and the MariaDB/MySQL client library, libmariadb3)",
    DbType.POSTGRESQL: "psycopg (with libpq)",
    DbType.SQLSERVER: "pyodbc (with unixODBC, libodbc2) and a SQL Server ODBC driver (msodbcsql18 or tdsodbc)",
    DbType.ORACLE: "oracledb",
}

ENGINE_MODULES = {
    DbType.MYSQL: ("mysql", "MySQLEngine"),
    DbType.POSTGRESQL: ("postgresql", "PostgreSQLEngine"),
    DbType.SQLSERVER: ("sqlserver", "SQLServerEngine"),
    DbType.ORACLE: ("oracle", "OracleEngine"),
}

__all__ = [
    "BaseEngine",
    "CollectResult",
    "ConnectionParams",
    "ConnectionTestResult",
    "DatabaseSize",
    "EngineError",
    "TableSize",
    "engine_class",
    "engine_time_limit",
    "get_engine",
    "params_for",
]


def engine_class(db_type: str) -> type[BaseEngine]:
    try:
        module_name, class_name = ENGINE_MODULES[db_type]
    except KeyError:
        raise EngineError(ErrorKind.UNSUPPORTED, _("Unsupported database type: %(t)s") % {"t": db_type}) from None
    try:
        module = import_module(f"{__name__}.{module_name}")
    except (ImportError, OSError) as exc:
        # e.g. "libodbc.so.2: cannot open shared object file": the platform lacks the driver, which
        # no retry fixes; callers record `unsupported` instead of crashing.
        raise EngineError(
            ErrorKind.UNSUPPORTED,
            _("The %(engine)s driver cannot be loaded on this server (%(err)s); install %(hint)s.")
            % {"engine": DbType(db_type).label, "err": exc, "hint": DRIVER_HINTS[db_type]},
        ) from exc
    return getattr(module, class_name)


def engine_time_limit(db_type: str) -> float:
    """Seconds one collection of a `db_type` instance may take, from CAPACITY_CONNECT_TIMEOUT and
    CAPACITY_QUERY_TIMEOUT and the engine's bounded round trips (see BaseEngine.time_limit).

    An engine whose driver cannot be loaded fails at once; its limit is the base one.
    """
    try:
        cls = engine_class(db_type)
    except EngineError:
        cls = BaseEngine
    return cls.time_limit(settings.CAPACITY_CONNECT_TIMEOUT, settings.CAPACITY_QUERY_TIMEOUT)


def params_for(instance, *, connect_timeout: int | None = None, query_timeout: int | None = None) -> ConnectionParams:
    """Connection parameters of an Instance; raises EngineError when it cannot be reached at all.

    This is the one place a stored password is decrypted for a connection, so it is where the
    credential's binding is enforced: the password is only handed out for an (engine, host, port)
    approved for that credential (see instances.binding), whatever path asked for it. The target
    checked is the one built into the parameters below, from the same instance and credential.
    """
    from ..binding import is_approved, not_approved_message, target_of
    from ..crypto import CredentialDecryptError

    credential = instance.credential
    if credential is None:
        raise EngineError(
            ErrorKind.AUTH, _("Instance %(name)s has no credential to connect with.") % {"name": instance.name}
        )
    where = target_of(instance)
    if not is_approved(credential.pk, where):
        raise EngineError(ErrorKind.PERMISSION, not_approved_message(instance, where))
    try:
        password = credential.get_password()
    except CredentialDecryptError as exc:
        raise EngineError(ErrorKind.AUTH, str(exc)) from exc
    return ConnectionParams(
        host=instance.host,
        port=instance.effective_port,
        username=credential.username,
        password=password,
        options=dict(instance.options or {}),
        connect_timeout=connect_timeout or settings.CAPACITY_CONNECT_TIMEOUT,
        query_timeout=query_timeout or settings.CAPACITY_QUERY_TIMEOUT,
        name=instance.name,
    )


def get_engine(instance, **timeouts) -> BaseEngine:
    """The adapter for an Instance, not yet connected (use it as a context manager)."""
    return engine_class(instance.db_type)(params_for(instance, **timeouts))
