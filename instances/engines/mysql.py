"""MySQL and MariaDB: schema sizes from information_schema, data + index bytes.

Per schema: size = DATA_LENGTH + INDEX_LENGTH summed over information_schema.TABLES (the
logical size InnoDB estimates from its pages), free_size_bytes = DATA_FREE summed (for tables
kept in the shared system tablespace DATA_FREE is that tablespace's, repeated per table), and
allocated_size_bytes = what the schema's files take on disk: the ALLOCATED_SIZE of its InnoDB
file-per-table tablespaces (INNODB_SYS_TABLESPACES, INNODB_TABLESPACES on MySQL 8) plus the
data and index bytes of its tables of other engines that keep files (MyISAM, Aria, ...). That
one more query needs the PROCESS privilege; without it allocated_size_bytes stays None with a
note. InnoDB tables kept in the system or a general tablespace are in no schema's allocated
size (those files are shared), and a schema whose name is not plain ASCII is left None too,
since its directory name is encoded in a way only the server knows.

Tables (list_database_sizes(tables=True)) come from the same information_schema.TABLES read,
one row per table instead of one per schema, summed per schema here: no extra round trip.
"""

import re

import MySQLdb
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError, TableSize, names_login
from .options import cert_path

SYSTEM_SCHEMAS = frozenset({"information_schema", "performance_schema", "mysql", "sys"})

# Bytes of tables whose engine keeps them in files sized by DATA_LENGTH + INDEX_LENGTH
# (InnoDB is measured from its tablespaces instead; MEMORY and performance_schema have no file).
_FILE_ENGINE_BYTES = """CASE WHEN t.TABLE_TYPE = 'BASE TABLE'
                 AND t.ENGINE NOT IN ('InnoDB', 'MEMORY', 'PERFORMANCE_SCHEMA')
            THEN COALESCE(t.DATA_LENGTH, 0) + COALESCE(t.INDEX_LENGTH, 0) ELSE 0 END"""

# The login itself as information_schema spells a grantee, 'user'@'host'. With a global SELECT
# the privilege views list every account's grants, so they are filtered to this one.
_GRANTEE = (
    "CONCAT(CHAR(39), SUBSTRING_INDEX(CURRENT_USER(), '@', 1), CHAR(39), '@', "
    "CHAR(39), SUBSTRING_INDEX(CURRENT_USER(), '@', -1), CHAR(39))"
)

# The login's global privileges: SHOW DATABASES decides whether SCHEMATA lists every schema or
# only those the login holds a privilege on; a global table privilege (SELECT, ...) makes every
# table visible in information_schema.TABLES.
# The schema-level grants (LIKE patterns) come in the same round trip: a schema matching one
# is in the login's view whenever it exists, so its absence means it was dropped.
PRIVILEGES_SQL = f"""
SELECT 'GLOBAL' AS level, u.PRIVILEGE_TYPE
FROM information_schema.USER_PRIVILEGES AS u
WHERE u.GRANTEE = {_GRANTEE}
UNION ALL
SELECT DISTINCT 'SCHEMA', p.TABLE_SCHEMA
FROM information_schema.SCHEMA_PRIVILEGES AS p
WHERE p.GRANTEE = {_GRANTEE}
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
       CAST(COALESCE(SUM(t.DATA_FREE), 0) AS UNSIGNED) AS free_bytes,
       CAST(COALESCE(SUM({_FILE_ENGINE_BYTES}), 0) AS UNSIGNED) AS file_engine_bytes,
       (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES AS p
        WHERE p.GRANTEE = {_GRANTEE} AND s.SCHEMA_NAME LIKE p.TABLE_SCHEMA) AS schema_grants
FROM information_schema.SCHEMATA AS s
LEFT JOIN information_schema.TABLES AS t ON t.TABLE_SCHEMA = s.SCHEMA_NAME
GROUP BY s.SCHEMA_NAME
ORDER BY s.SCHEMA_NAME
"""

# The same read one row per table (a schema without tables as one row of NULLs): the sums
# above are done in Python from these rows, so both give the same per-schema figures.
TABLE_SIZES_SQL = f"""
SELECT s.SCHEMA_NAME,
       t.TABLE_NAME,
       t.TABLE_TYPE,
       t.TABLE_ROWS,
       t.DATA_LENGTH,
       t.INDEX_LENGTH,
       t.DATA_FREE,
       {_FILE_ENGINE_BYTES} AS file_engine_bytes,
       (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES AS p
        WHERE p.GRANTEE = {_GRANTEE} AND s.SCHEMA_NAME LIKE p.TABLE_SCHEMA) AS schema_grants
FROM information_schema.SCHEMATA AS s
LEFT JOIN information_schema.TABLES AS t ON t.TABLE_SCHEMA = s.SCHEMA_NAME
ORDER BY s.SCHEMA_NAME, t.TABLE_NAME
"""

# File-per-table tablespaces are named "<schema dir>/<table>" (partitions "...#P#p0"); the
# shared ones (innodb_system, undo, general tablespaces) have no "/" and belong to no schema.
_TABLESPACES_SQL = """
SELECT SUBSTRING_INDEX(NAME, '/', 1) AS schema_dir, CAST(SUM(ALLOCATED_SIZE) AS UNSIGNED) AS allocated_bytes
FROM information_schema.{view}
WHERE NAME LIKE '%/%'
GROUP BY SUBSTRING_INDEX(NAME, '/', 1)
"""
ALLOCATED_SQL = _TABLESPACES_SQL.format(view="INNODB_SYS_TABLESPACES")  # MariaDB, MySQL 5.7
ALLOCATED_SQL_MYSQL8 = _TABLESPACES_SQL.format(view="INNODB_TABLESPACES")

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
_UNKNOWN_SYSTEM_VARIABLE = 1193
_NEEDS_PROCESS = 1227


class MySQLEngine(BaseEngine):
    db_type = "mysql"
    #: The session limits (MariaDB: 1 SET, MySQL: 2), PRIVILEGES_SQL, SIZES_SQL (or
    #: TABLE_SIZES_SQL) and ALLOCATED_SQL; each
    #: statement is bounded by max_statement_time / max_execution_time and the read timeout.
    round_trips = 5

    #: Tables come with the size read (one row per table instead of per schema).
    table_round_trips = 0

    def __init__(self, params):
        super().__init__(params)
        self._is_mariadb = False
        #: Set when the server has no statement time limit and the socket read timeout bounds queries.
        self._unbounded_statements = False

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
            try:
                if self._is_mariadb:
                    # Seconds; 0 means no limit, so only set it when bounded.
                    cur.execute("SET SESSION max_statement_time = %s", (float(query_timeout),))
                else:
                    cur.execute("SET SESSION max_execution_time = %s", (int(query_timeout) * 1000,))
            except MySQLdb.OperationalError as exc:
                # MySQL < 5.7.8 and MariaDB < 10.1 have no statement time limit: the socket read
                # timeout (read_timeout above) is then what bounds every query.
                if not exc.args or exc.args[0] != _UNKNOWN_SYSTEM_VARIABLE:
                    raise
                self._unbounded_statements = True
            if not self._is_mariadb:
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

    def _query(self, sql: str) -> list:
        cur = self._conn.cursor()
        try:
            cur.execute(sql)
            return cur.fetchall()
        finally:
            cur.close()

    def _list_database_sizes(self) -> CollectResult:
        grants = self._query(PRIVILEGES_SQL)
        privileges = [value for level, value in grants if level == "GLOBAL"]
        schema_patterns = [value for level, value in grants if level == "SCHEMA"]
        if self.tables_requested:
            rows, tables = table_rows_to_schema_rows(self._query(TABLE_SIZES_SQL))
        else:
            rows, tables = self._query(SIZES_SQL), None
        allocated, note = self._allocated_by_schema_dir()
        result = rows_to_result(rows, allocated, privileges=privileges, login=self.params.username)
        if not result.listing_complete:
            result.visible_patterns = [grant_pattern(p) for p in schema_patterns]
        if tables is not None:
            measured = {db.name for db in result.databases}
            result.tables = {name: found for name, found in tables.items() if name in measured}
        if note:
            result.warnings.append(note)
        if self._unbounded_statements:
            result.warnings.append(
                _(
                    "This server has no statement time limit (max_execution_time / max_statement_time); "
                    "queries were bounded by the %(seconds)s-second socket read timeout instead."
                )
                % {"seconds": self.params.query_timeout}
            )
        return result

    def _allocated_by_schema_dir(self) -> tuple[dict[str, int] | None, str]:
        """Bytes on disk of the InnoDB file-per-table tablespaces per schema directory, or why not."""
        mysql8 = not self._is_mariadb and _major_version(self._conn.get_server_info()) >= 8
        try:
            rows = self._query(ALLOCATED_SQL_MYSQL8 if mysql8 else ALLOCATED_SQL)
        except MySQLdb.Error as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code == _NEEDS_PROCESS:
                return None, _(
                    "Disk footprint (allocated size) not read: the login needs the PROCESS privilege "
                    "to read the InnoDB tablespace files."
                )
            return None, _("Disk footprint (allocated size) not read: %(msg)s") % {
                "msg": self.translate_error(exc).message
            }
        return {str(schema_dir): int(allocated or 0) for schema_dir, allocated in rows}, ""

    def translate_error(self, exc: Exception) -> EngineError:
        code = exc.args[0] if getattr(exc, "args", None) and isinstance(exc.args[0], int) else None
        text = exc.args[1] if code is not None and len(exc.args) > 1 else str(exc)
        if code in _AUTH_ERRORS:
            # "Access denied for user 'x'@'host' (…)" says everything once; name the login only when it does not.
            if names_login(text, self.params.username):
                return EngineError(ErrorKind.AUTH, text)
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


def grant_pattern(like: str) -> re.Pattern:
    """A schema grant's name (a LIKE pattern: `%`, `_`, backslash escapes) as a regular expression."""
    out, chars = [], iter(like)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    # Case-sensitive, as grants are with lower_case_table_names=0: a doubtful name is carried
    # over, never taken for dropped.
    return re.compile("".join(out), re.DOTALL)


def _major_version(version: str) -> int:
    head = (version or "").split(".", 1)[0]
    return int(head) if head.isdigit() else 0


_FILENAME_SAFE = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


def schema_dir_name(schema: str) -> str | None:
    """The directory (and tablespace name prefix) the server keeps a schema in.

    The server writes [0-9A-Za-z_] as they are and any other ASCII character as @ and its code
    in four hex digits ("my-db" -> "my@002ddb"). Non-ASCII characters partly use a two-letter
    table of the server's own, so for those None is returned rather than a guess.
    """
    out = []
    for ch in schema:
        if ch in _FILENAME_SAFE:
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"@{ord(ch):04x}")
        else:
            return None
    return "".join(out)


def table_rows_to_schema_rows(rows) -> tuple[list[tuple], dict[str, list[TableSize]]]:
    """Per-table rows of TABLE_SIZES_SQL -> the per-schema rows of SIZES_SQL, and the tables.

    Views have no size and are no table here; every other row (base tables, sequences, system
    views) is one TableSize, so the tables of a schema sum to exactly the schema's size.
    """
    sums: dict[str, list[int]] = {}
    tables: dict[str, list[TableSize]] = {}
    for schema, table, table_type, table_rows, data, index, free, file_engine, schema_grants in rows:
        totals = sums.setdefault(schema, [0, 0, 0, 0, 0, int(schema_grants or 0)])
        tables.setdefault(schema, [])
        if table is None:  # a schema without tables
            continue
        data, index = int(data or 0), int(index or 0)
        totals[0] += data
        totals[1] += index
        totals[2] += 1
        totals[3] += int(free or 0)
        totals[4] += int(file_engine or 0)
        if (table_type or "").upper() == "VIEW":
            continue
        tables[schema].append(
            TableSize(
                schema_name=schema,
                table_name=table,
                rows_estimate=None if table_rows is None else int(table_rows),
                data_size_bytes=data,
                index_size_bytes=index,
                lob_size_bytes=None,
                total_size_bytes=data + index,
            )
        )
    return [(schema, *totals) for schema, totals in sums.items()], tables


def rows_to_result(
    rows, allocated_by_dir: dict[str, int] | None = None, privileges=(), login: str = ""
) -> CollectResult:
    """Turn (schema, data, index, table_count, free, file_engine_bytes, schema_grants) rows into sizes.

    allocated_by_dir is the InnoDB file-per-table bytes per schema directory (None: not read).
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
            ngettext(
                "The login sees %(n)d schema but no tables in it; grant it SELECT on the "
                "databases to measure (sizes come from information_schema.TABLES).",
                "The login sees %(n)d schemas but no tables in any of them; grant it SELECT on the "
                "databases to measure (sizes come from information_schema.TABLES).",
                len(rows),
            )
            % {"n": len(rows)},
        )
    privileges = {str(p).upper() for p in privileges}
    reads_every_table = bool(privileges & TABLE_PRIVILEGES)
    result = CollectResult(databases=[], listing_complete="SHOW DATABASES" in privileges)
    for name, data_bytes, index_bytes, table_count, free_bytes, file_engine_bytes, schema_grants in rows:
        unreadable = not (int(table_count or 0) or int(schema_grants or 0) or reads_every_table)
        if unreadable and name.lower() != "information_schema":
            result.skipped.append(name)
            continue
        data_bytes, index_bytes = int(data_bytes or 0), int(index_bytes or 0)
        allocated = None
        if allocated_by_dir is not None:
            directory = schema_dir_name(name)
            if directory is not None:
                allocated = allocated_by_dir.get(directory, 0) + int(file_engine_bytes or 0)
        result.databases.append(
            DatabaseSize(
                name=name,
                size_bytes=data_bytes + index_bytes,
                data_size_bytes=data_bytes,
                index_size_bytes=index_bytes,
                is_system=name.lower() in SYSTEM_SCHEMAS,
                allocated_size_bytes=allocated,
                free_size_bytes=int(free_bytes or 0),
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
