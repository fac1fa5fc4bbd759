"""MySQL and MariaDB: schema sizes from information_schema, data + index bytes."""

import MySQLdb
from django.utils.translation import gettext as _

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError

SYSTEM_SCHEMAS = frozenset({"information_schema", "performance_schema", "mysql", "sys"})

# Every schema the login can see, left-joined to its tables so an empty schema reports 0.
# One query for the whole instance, sums done by the server, exact bytes (no rounding).
SIZES_SQL = """
SELECT s.SCHEMA_NAME,
       CAST(COALESCE(SUM(t.DATA_LENGTH), 0) AS UNSIGNED) AS data_bytes,
       CAST(COALESCE(SUM(t.INDEX_LENGTH), 0) AS UNSIGNED) AS index_bytes,
       COUNT(t.TABLE_NAME) AS table_count
FROM information_schema.SCHEMATA AS s
LEFT JOIN information_schema.TABLES AS t ON t.TABLE_SCHEMA = s.SCHEMA_NAME
GROUP BY s.SCHEMA_NAME
ORDER BY s.SCHEMA_NAME
"""

# MySQL error numbers that say who is at fault.
_AUTH_ERRORS = {1045, 1698, 2049, 1251}
_PERMISSION_ERRORS = {1044, 1142, 1143, 1227, 1370}
_TIMEOUT_ERRORS = {3024, 1969, 2013, 1205}  # max_execution_time / query interrupted / lost during query
_CONNECTION_ERRORS = {2002, 2003, 2005, 2006, 2026, 2055, 1040, 1129, 1130}


class MySQLEngine(BaseEngine):
    db_type = "mysql"

    def _open(self):
        p = self.params
        kwargs = {
            "host": p.host,
            "port": int(p.port),
            "user": p.username,
            "password": p.password,
            "connect_timeout": p.connect_timeout,
            "read_timeout": p.query_timeout,
            "write_timeout": p.query_timeout,
            "charset": "utf8mb4",
            "autocommit": True,
        }
        if p.options.get("ssl"):
            ssl = p.options["ssl"]
            kwargs["ssl"] = ssl if isinstance(ssl, dict) else {}
            kwargs["ssl_mode"] = p.options.get("ssl_mode", "REQUIRED")
        conn = MySQLdb.connect(**kwargs)
        self._is_mariadb = "mariadb" in conn.get_server_info().lower()
        cur = conn.cursor()
        try:
            if self._is_mariadb:
                # Seconds; 0 means no limit, so only set it when bounded.
                cur.execute("SET SESSION max_statement_time = %s", (float(p.query_timeout),))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (int(p.query_timeout) * 1000,))
                # MySQL 8 caches table statistics for a day by default; read fresh figures.
                try:
                    cur.execute("SET SESSION information_schema_stats_expiry = 0")
                except MySQLdb.OperationalError:
                    pass  # MySQL 5.7 has no such variable and no such cache
        finally:
            cur.close()
        return conn

    def _server_version(self) -> str:
        cur = self._conn.cursor()
        try:
            cur.execute("SELECT VERSION()")
            (version,) = cur.fetchone()
        finally:
            cur.close()
        return ("MariaDB " if self._is_mariadb and "mariadb" not in version.lower() else "") + version

    def _list_database_sizes(self) -> CollectResult:
        cur = self._conn.cursor()
        try:
            cur.execute(SIZES_SQL)
            rows = cur.fetchall()
        finally:
            cur.close()
        return rows_to_result(rows)

    def translate_error(self, exc: Exception) -> EngineError:
        code = exc.args[0] if getattr(exc, "args", None) and isinstance(exc.args[0], int) else None
        text = exc.args[1] if code is not None and len(exc.args) > 1 else str(exc)
        if code in _AUTH_ERRORS:
            return EngineError(
                ErrorKind.AUTH, _("Access denied for %(user)s: %(msg)s") % {"user": self.params.username, "msg": text}
            )
        if code in _PERMISSION_ERRORS:
            return EngineError(ErrorKind.PERMISSION, text)
        if code in _TIMEOUT_ERRORS or "timed out" in text.lower() or "timeout" in text.lower():
            return EngineError(ErrorKind.TIMEOUT, _("Timed out: %(msg)s") % {"msg": text})
        if code in _CONNECTION_ERRORS or isinstance(exc, MySQLdb.OperationalError):
            return EngineError(ErrorKind.CONNECTION, text)
        if isinstance(exc, MySQLdb.DataError | ValueError | TypeError):
            return EngineError(ErrorKind.DATA, text)
        return EngineError(ErrorKind.CONNECTION, f"{type(exc).__name__}: {text}")


def rows_to_result(rows) -> CollectResult:
    """Turn (schema, data_bytes, index_bytes, table_count) rows into sizes."""
    if not rows:
        raise EngineError(
            ErrorKind.PERMISSION, _("The login sees no schemas at all; grant it access to the databases.")
        )
    # information_schema.TABLES lists only tables the login holds a privilege on, so a login
    # that sees no table outside information_schema lacks grants; its schemas are not empty.
    if not any(int(r[3]) for r in rows if r[0].lower() != "information_schema"):
        raise EngineError(
            ErrorKind.PERMISSION,
            _(
                "The login sees %(n)d schemas but no tables in any of them; grant it SELECT on the "
                "databases to measure (sizes come from information_schema.TABLES)."
            )
            % {"n": len(rows)},
        )
    result = CollectResult(databases=[])
    for name, data_bytes, index_bytes, _count in rows:
        data_bytes, index_bytes = int(data_bytes or 0), int(index_bytes or 0)
        result.databases.append(
            DatabaseSize(
                name=name,
                size_bytes=data_bytes + index_bytes,
                data_size_bytes=data_bytes,
                index_size_bytes=index_bytes,
                is_system=name.lower() in SYSTEM_SCHEMAS,
            )
        )
    return result
