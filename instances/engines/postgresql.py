"""PostgreSQL: pg_database_size for every database that is not a template."""

import psycopg
from django.utils.translation import gettext as _
from psycopg import errors as pg_errors

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError
from .options import cert_path

SYSTEM_DATABASES = frozenset({"postgres"})
_AUTH_MARKERS = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "is not permitted to log in",
    "authentication failed",
    "no password supplied",
)

# pg_database_size() raises for a database the login may not CONNECT to (unless it has the
# privileges of pg_read_all_stats), which would abort the whole statement; checking first lets
# one query measure what it can and name the rest. It reads the files without entering the
# database, so databases that refuse connections (datallowconn = false) are measured like the
# others rather than taken for dropped. Templates stay out, as system databases. Exact bytes.
SIZES_SQL = """
SELECT d.datname,
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'USAGE')
            THEN pg_database_size(d.oid) END AS size_bytes
FROM pg_database AS d
WHERE NOT d.datistemplate
ORDER BY d.datname
"""

_CERT_OPTIONS = ("sslrootcert", "sslcert", "sslkey")


class PostgreSQLEngine(BaseEngine):
    db_type = "postgresql"
    #: SIZES_SQL, one statement under statement_timeout.
    round_trips = 1

    def _open(self):
        p = self.params
        timeout_ms = int(p.query_timeout) * 1000
        kwargs = {
            "host": p.host,
            "port": int(p.port),
            "user": p.username,
            "password": p.password,
            "dbname": p.options.get("database", "postgres"),
            "connect_timeout": p.connect_timeout,
            "application_name": "capacity-platform",
            "autocommit": True,
            # Bounded on the server side: a stuck catalog read or a lock wait gives up in time.
            "options": f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms} "
            f"-c idle_in_transaction_session_timeout={timeout_ms}",
            # Detect a peer that went silent mid-query instead of waiting on TCP for ever.
            "keepalives": 1,
            "keepalives_idle": max(1, min(30, p.query_timeout)),
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": timeout_ms + p.connect_timeout * 1000,
        }
        if p.options.get("sslmode"):
            kwargs["sslmode"] = p.options["sslmode"]
        for key in _CERT_OPTIONS:
            if p.options.get(key):
                # Checked against CAPACITY_CERTS_DIR again now, links resolved (see options.py).
                kwargs[key] = cert_path(p.options[key])
        return psycopg.connect(**kwargs)

    def _server_version(self) -> str:
        with self._conn.cursor() as cur:
            cur.execute("SHOW server_version")
            (version,) = cur.fetchone()
        return f"PostgreSQL {version}"

    def _list_database_sizes(self) -> CollectResult:
        with self._conn.cursor() as cur:
            cur.execute(SIZES_SQL)
            rows = cur.fetchall()
        return rows_to_result(rows)

    def translate_error(self, exc: Exception) -> EngineError:
        text = " ".join(str(exc).split())
        if isinstance(exc, pg_errors.InvalidPassword | pg_errors.InvalidAuthorizationSpecification):
            return EngineError(ErrorKind.AUTH, text)
        if isinstance(exc, pg_errors.InsufficientPrivilege):
            return EngineError(ErrorKind.PERMISSION, text)
        if isinstance(exc, pg_errors.QueryCanceled | pg_errors.LockNotAvailable):
            return EngineError(ErrorKind.TIMEOUT, _("Timed out: %(msg)s") % {"msg": text})
        if isinstance(exc, psycopg.OperationalError):
            lowered = text.lower()
            # Errors at login carry no SQLSTATE in psycopg 3; the server's FATAL text says who is at fault.
            if any(marker in lowered for marker in _AUTH_MARKERS) or (
                "role" in lowered and "does not exist" in lowered
            ):
                return EngineError(ErrorKind.AUTH, text)
            if "permission denied" in lowered:
                return EngineError(ErrorKind.PERMISSION, text)
            if "timeout" in lowered or "timed out" in lowered:
                return EngineError(ErrorKind.TIMEOUT, _("Timed out: %(msg)s") % {"msg": text})
            return EngineError(ErrorKind.CONNECTION, text)
        if isinstance(exc, psycopg.DataError | ValueError | TypeError):
            return EngineError(ErrorKind.DATA, text)
        return EngineError(ErrorKind.CONNECTION, f"{type(exc).__name__}: {text}")


def rows_to_result(rows) -> CollectResult:
    """Turn (datname, size_bytes or None) rows into sizes and notes for unreadable ones."""
    result = CollectResult(databases=[])
    for name, size in rows:
        if size is None:
            result.warnings.append(_("Database %(name)s skipped: the login may not connect to it.") % {"name": name})
            result.skipped.append(name)
            continue
        size = int(size)
        result.databases.append(
            DatabaseSize(name=name, size_bytes=size, data_size_bytes=size, is_system=name in SYSTEM_DATABASES)
        )
    return result
