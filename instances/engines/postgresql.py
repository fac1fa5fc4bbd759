"""PostgreSQL: pg_database_size for every database that is not a template.

pg_database_size is what the database's directory holds on disk, so allocated_size_bytes is
the size itself.

Tables (list_database_sizes(tables=True)) are read with one connection per database, since
the catalogs are per database: every table, partition and materialized view outside
pg_catalog and information_schema, with
  data  = pg_table_size - TOAST (the main fork with its free space and visibility maps),
  index = pg_indexes_size,
  lob   = the TOAST table with its index,
  total = data + index + lob = pg_total_relation_size.
Each query is bounded by the query timeout, the pass as a whole by the table budget: when
the budget runs out the tables read so far are kept and the databases left are named in a
warning. A database the login cannot enter is noted, never fatal.
"""

import dataclasses
import time

import psycopg
from django.utils.translation import gettext as _
from psycopg import errors as pg_errors

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError, TableSize
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


# One row per table of the connected database. reltuples is -1 for a table never vacuumed or
# analyzed (PostgreSQL 14+), which is "unknown", not a count. pg_table_size counts the TOAST
# table with its index; they are split out as the LOB figure.
TABLE_SIZES_SQL = """
SELECT n.nspname,
       c.relname,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END AS rows_estimate,
       pg_table_size(c.oid) - COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0) AS data_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0) AS toast_bytes
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname
"""


class PostgreSQLEngine(BaseEngine):
    db_type = "postgresql"
    #: One connection and one query per database, bounded by the table budget.
    table_round_trips = None
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

    def _list_table_sizes(self, result: CollectResult, deadline: float | None) -> None:
        names = [db.name for db in result.databases]
        for position, name in enumerate(names):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left < 1:
                result.warnings.append(
                    _("Table sizes budget spent; tables not read in %(names)s.")
                    % {"names": ", ".join(names[position:])}
                )
                return
            try:
                rows = self._read_tables(name, left)
            except EngineError as exc:
                if exc.kind in (ErrorKind.AUTH, ErrorKind.PERMISSION):
                    message = _("Tables of database %(name)s not read: the login cannot enter it: %(msg)s")
                else:
                    message = _("Tables of database %(name)s not read: %(msg)s")
                result.warnings.append(message % {"name": name, "msg": exc.message})
                continue
            result.tables[name] = table_rows_to_tables(rows)

    def _read_tables(self, dbname: str, seconds_left: float | None) -> list:
        """The table rows of one database, on a connection of its own bounded by the time left."""
        p = self.params

        def bound(seconds: int) -> int:
            return seconds if seconds_left is None else max(1, min(seconds, int(seconds_left)))

        params = dataclasses.replace(
            p,
            options={**(p.options or {}), "database": dbname},
            connect_timeout=bound(p.connect_timeout),
            query_timeout=bound(p.query_timeout),
        )
        with type(self)(params) as engine:
            return engine._guard(lambda: engine._query(TABLE_SIZES_SQL))

    def _query(self, sql: str) -> list:
        with self._conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

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
            DatabaseSize(
                name=name,
                size_bytes=size,
                data_size_bytes=size,
                is_system=name in SYSTEM_DATABASES,
                allocated_size_bytes=size,
            )
        )
    return result


def table_rows_to_tables(rows) -> list[TableSize]:
    """Turn (schema, table, rows_estimate, data, index, toast) rows into tables."""
    tables = []
    for schema, table, rows_estimate, data, index, toast in rows:
        # data is pg_table_size less TOAST, two reads of a table that may be written meanwhile.
        data, index, toast = max(0, int(data or 0)), int(index or 0), int(toast or 0)
        tables.append(
            TableSize(
                schema_name=schema,
                table_name=table,
                rows_estimate=None if rows_estimate is None else int(rows_estimate),
                data_size_bytes=data,
                index_size_bytes=index,
                lob_size_bytes=toast,
                total_size_bytes=data + index + toast,
            )
        )
    return tables
