"""MySQL and MariaDB: schema sizes from information_schema, data + index bytes."""

import MySQLdb
from django.utils.translation import gettext as _

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError
from .options import cert_path

SYSTEM_SCHEMAS = frozenset({"information_schema", "performance_schema", "mysql", "sys"})

# The login itself as information_schema spells a grantee, 'user'@'host'. With a global SELECT
# the privilege views list every account's grants, so they are filtered to this one.
_GRANTEE = (
    "CONCAT(CHAR(39), SUBSTRING_INDEX(CURRENT_USER(), '@', 1), CHAR(39), '@', "
    "CHAR(39), SUBSTRING_INDEX(CURRENT_USER(), '@', -1), CHAR(39))"
)

# The login's global privileges: SHOW DATABASES decides whether SCHEMATA lists every schema or
# only those the login holds a privilege on; a global table privilege (SELECT, ...) makes every
# table visible in information_schema.TABLES.
PRIVILEGES_SQL = f"""
SELECT u.PRIVILEGE_TYPE
FROM information_schema.USER_PRIVILEGES AS u
WHERE u.GRANTEE = {_GRANTEE}
"""

# Every schema the login can see, left-joined to its tables so an empty schema reports 0.
# One query for the whole instance, sums done by the server, exact bytes (no rounding).
# schema_grants counts the login's schema-level grants matching the schema (grant names are
# LIKE patterns such as db\_x or db\_%), to tell an empty schema from one whose tables the
# login may not see: information_schema.TABLES silently leaves out tables without a privilege.
SIZES_SQL = f"""
SELECT s.SCHEMA_NAME,
       CAST(COALESCE(SUM(t.DATA_LENGTH), 0) AS UNSIGNED) AS data_bytes,
       CAST(COALESCE(SUM(t.INDEX_LENGTH), 0) AS UNSIGNED) AS index_bytes,
       COUNT(t.TABLE_NAME) AS table_count,
       (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES AS p
        WHERE p.GRANTEE = {_GRANTEE} AND s.SCHEMA_NAME LIKE p.TABLE_SCHEMA) AS schema_grants
FROM information_schema.SCHEMATA AS s
LEFT JOIN information_schema.TABLES AS t ON t.TABLE_SCHEMA = s.SCHEMA_NAME
GROUP BY s.SCHEMA_NAME
ORDER BY s.SCHEMA_NAME
"""

#: Global privileges that make every table visible in information_schema.TABLES.
TABLE_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES", "INDEX", "ALTER", "SHOW VIEW", "TRIGGER"}
)
#: What the platform's login needs for complete figures (as mysqld_exporter documents).
RECOMMENDED_GRANTS = "GRANT SELECT, PROCESS, SHOW DATABASES ON *.*"
_SSL_FILES = frozenset({"ca", "cert", "key", "capath"})

# MySQL error numbers that say who is at fault.
_AUTH_ERRORS = {1045, 1698, 2049, 1251}
_PERMISSION_ERRORS = {1044, 1142, 1143, 1227, 1370}
_TIMEOUT_ERRORS = {3024, 1969, 2013, 1205}  # max_execution_time / query interrupted / lost during query
_CONNECTION_ERRORS = {2002, 2003, 2005, 2006, 2026, 2055, 1040, 1129, 1130}


class MySQLEngine(BaseEngine):
    db_type = "mysql"
    #: The session limits (MariaDB: 1 SET, MySQL: 2), PRIVILEGES_SQL and SIZES_SQL; each
    #: statement is bounded by max_statement_time / max_execution_time and the read timeout.
    round_trips = 4

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
        ssl = p.options.get("ssl")
        if ssl:
            # Certificate files only from CAPACITY_CERTS_DIR, checked again now (see options.py).
            kwargs["ssl"] = (
                {
                    key: cert_path(value, directory=key == "capath") if key in _SSL_FILES else value
                    for key, value in ssl.items()
                }
                if isinstance(ssl, dict)
                else {}
            )
        ssl_mode = p.options.get("ssl_mode") or ("REQUIRED" if ssl else None)
        if ssl_mode:
            kwargs["ssl_mode"] = ssl_mode
        conn = MySQLdb.connect(**kwargs)
        try:
            self._is_mariadb = "mariadb" in conn.get_server_info().lower()
            self._limit_session(conn)
        except BaseException:
            # The connection is not handed out, so nothing else would ever close it.
            try:
                conn.close()
            except Exception:
                pass
            raise
        return conn

    def _limit_session(self, conn) -> None:
        query_timeout = self.params.query_timeout
        cur = conn.cursor()
        try:
            if self._is_mariadb:
                # Seconds; 0 means no limit, so only set it when bounded.
                cur.execute("SET SESSION max_statement_time = %s", (float(query_timeout),))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (int(query_timeout) * 1000,))
                # MySQL 8 caches table statistics for a day by default; read fresh figures.
                try:
                    cur.execute("SET SESSION information_schema_stats_expiry = 0")
                except MySQLdb.OperationalError:
                    pass  # MySQL 5.7 has no such variable and no such cache
        finally:
            cur.close()

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
            cur.execute(PRIVILEGES_SQL)
            privileges = [row[0] for row in cur.fetchall()]
            cur.execute(SIZES_SQL)
            rows = cur.fetchall()
        finally:
            cur.close()
        return rows_to_result(rows, privileges, login=self.params.username)

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


def rows_to_result(rows, privileges=(), login: str = "") -> CollectResult:
    """Turn (schema, data_bytes, index_bytes, table_count, schema_grants) rows into sizes.

    `privileges` are the login's global privileges. A schema with no visible table, no
    schema-level grant and no global table privilege exists but cannot be read: it goes to
    `skipped` instead of reading 0 bytes. Without the global SHOW DATABASES privilege the login
    sees only the schemas it holds a privilege on, so a schema whose grants were revoked drops
    out of its view: the listing is flagged incomplete rather than the schema taken as dropped.
    """
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
    privileges = {str(p).upper() for p in privileges}
    reads_every_table = bool(privileges & TABLE_PRIVILEGES)
    result = CollectResult(databases=[], listing_complete="SHOW DATABASES" in privileges)
    for name, data_bytes, index_bytes, table_count, schema_grants in rows:
        unreadable = not (int(table_count or 0) or int(schema_grants or 0) or reads_every_table)
        if unreadable and name.lower() != "information_schema":
            result.skipped.append(name)
            continue
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
    who = login or _("of this instance")
    if result.skipped:
        result.warnings.append(
            _(
                "Skipped %(names)s: the login %(login)s holds no privilege on their tables, so their sizes "
                "cannot be read; %(grants)s gives complete figures."
            )
            % {"names": ", ".join(result.skipped), "login": who, "grants": RECOMMENDED_GRANTS}
        )
    if not result.listing_complete:
        result.warnings.append(
            _(
                "The login %(login)s lacks the global SHOW DATABASES privilege: it sees only the schemas it "
                "holds a privilege on, so a schema missing from its view is not taken as dropped; "
                "%(grants)s gives complete figures."
            )
            % {"login": who, "grants": RECOMMENDED_GRANTS}
        )
    return result
