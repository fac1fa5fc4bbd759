"""SQL Server: file sizes per database from sys.master_files, data and log apart, through ODBC.

Sizes are what the files hold on disk (allocated pages * 8 KiB), which is what a SQL Server DBA
plans capacity against: a data file does not shrink when rows are deleted. Every file that is
not a log counts as data: row files, and FILESTREAM / memory-optimized containers (type 2,
whose size is what the container holds). tempdb is read from its own current files, because
sys.master_files keeps the size tempdb is recreated with at start. allocated_size_bytes is the
size (the files on disk).

Grants: VIEW ANY DEFINITION at the server (sys.master_files shows only the files of databases
the login may see otherwise), and VIEW ANY DATABASE (public has it by default; without it
sys.databases lists only master, tempdb and the login's own databases, and the listing is marked
incomplete so that no database is taken as dropped for being out of view). Table sizes
(list_database_sizes(tables=True)) read each online
database's sys.allocation_units / sys.partitions / sys.objects / sys.schemas with three-part
names, one statement per database, so the login must also be able to enter each database (a
user there, or CONNECT ANY DATABASE at the server) and see its tables' metadata (VIEW
DEFINITION in the database, or VIEW ANY DEFINITION at the server); a database it cannot enter
is noted. Tables: in-row data of the heap or clustered index as data, its LOB and row-overflow
pages as lob, nonclustered indexes as index, all as reserved pages (total_pages) * 8 KiB.
Memory-optimized tables keep their rows in the memory-optimized container, which is counted in
the database's size but in no table. The same statement sums every allocation unit of the
database (sp_spaceused's "reserved"), so free_size_bytes is the row files' size minus that.
tempdb's tables come and go with sessions and are not read.

Azure SQL Database (and Synapse) has no sys.master_files: it is refused up front as
`unsupported`. Azure SQL Managed Instance has it and is collected like SQL Server.
"""

import dataclasses
import re
import time

import pyodbc
from django.utils.translation import gettext as _

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError, TableSize, names_login

PAGE_BYTES = 8192
SYSTEM_DATABASES = frozenset({"master", "model", "msdb", "tempdb"})
ONLINE = "ONLINE"

# Microsoft's drivers first (newest first), FreeTDS (Debian's tdsodbc) as the fallback.
_MICROSOFT_DRIVER = re.compile(r"^ODBC Driver (\d+) for SQL Server$", re.IGNORECASE)
FREETDS_DRIVER = "FreeTDS"
# FreeTDS's "auto" protocol retries with TDS 5.0 after a login timeout and that retry ignores the
# timeout, so a silent port would hang for ever: always name a version (7.4 = SQL Server 2012+).
DEFAULT_TDS_VERSION = "7.4"
APP_NAME = "capacity-platform"

# One row per database with its data (every file but the log: row files, FILESTREAM and
# memory-optimized containers) and log (type 1) files summed apart, in bytes, and its row files
# (type 0) alone for the room left inside them. size is an int count of 8 KiB pages; it is
# widened before multiplying so large files cannot overflow. file_count tells "no files" apart
# from "not allowed to see the files": rows of sys.master_files are filtered silently for a
# login without VIEW ANY DEFINITION.
SIZES_SQL = """
SELECT d.name,
       d.state_desc,
       d.source_database_id,
       COUNT(mf.file_id) AS file_count,
       COALESCE(SUM(CASE WHEN mf.type <> 1 THEN CAST(mf.size AS bigint) * 8192 ELSE 0 END), 0) AS data_bytes,
       COALESCE(SUM(CASE WHEN mf.type = 1 THEN CAST(mf.size AS bigint) * 8192 ELSE 0 END), 0) AS log_bytes,
       COALESCE(SUM(CASE WHEN mf.type = 0 THEN CAST(mf.size AS bigint) * 8192 ELSE 0 END), 0) AS rows_bytes
FROM sys.databases AS d
LEFT JOIN sys.master_files AS mf ON mf.database_id = d.database_id
GROUP BY d.database_id, d.name, d.state_desc, d.source_database_id
ORDER BY d.name
"""

# tempdb's files as they are now (they grow after start-up and master_files does not follow).
TEMPDB_SIZES_SQL = """
SELECT COUNT(f.file_id) AS file_count,
       COALESCE(SUM(CASE WHEN f.type <> 1 THEN CAST(f.size AS bigint) * 8192 ELSE 0 END), 0) AS data_bytes,
       COALESCE(SUM(CASE WHEN f.type = 1 THEN CAST(f.size AS bigint) * 8192 ELSE 0 END), 0) AS log_bytes,
       COALESCE(SUM(CASE WHEN f.type = 0 THEN CAST(f.size AS bigint) * 8192 ELSE 0 END), 0) AS rows_bytes
FROM tempdb.sys.database_files AS f
"""

# 5 = Azure SQL Database, 6 = Azure Synapse dedicated pool, 11 = Synapse serverless: no
# sys.master_files. 8 (Managed Instance) has it. In the same round trip: whether the login holds
# VIEW ANY DATABASE (granted to public by default, often revoked on hardened servers); without it
# sys.databases lists only master, tempdb and the databases the login owns. NULL: not answered.
EDITION_SQL = (
    "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition, "
    "HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DATABASE') AS view_any_database"
)
# The databases every login sees in sys.databases, with or without VIEW ANY DATABASE.
ALWAYS_LISTED = ("master", "tempdb")
AZURE_EDITIONS = {5: "Azure SQL Database", 6: "Azure Synapse Analytics", 11: "Azure Synapse serverless SQL pool"}

# One database's tables (three-part names: {db} is the bracket-quoted database name), and one
# last row with schema and table NULL holding every allocation unit of the database (the pages
# reserved in its row files). LOB pages hang off the partition (container_id = partition_id),
# in-row and row-overflow pages off the hobt. Heap (index_id 0) and clustered index (1) pages
# are the table's data; nonclustered indexes (index_id > 1) its indexes.
_TABLE_SIZES_SQL = """
SELECT s.name AS schema_name,
       o.name AS table_name,
       SUM(CASE WHEN p.index_id IN (0, 1) AND au.type = 1 THEN p.rows ELSE 0 END) AS rows_estimate,
       SUM(CASE WHEN p.index_id IN (0, 1) AND au.type = 1 THEN CAST(au.total_pages AS bigint) ELSE 0 END)
           * 8192 AS data_bytes,
       SUM(CASE WHEN p.index_id > 1 THEN CAST(au.total_pages AS bigint) ELSE 0 END) * 8192 AS index_bytes,
       SUM(CASE WHEN p.index_id IN (0, 1) AND au.type IN (2, 3) THEN CAST(au.total_pages AS bigint) ELSE 0 END)
           * 8192 AS lob_bytes
FROM {db}.sys.objects AS o
JOIN {db}.sys.schemas AS s ON s.schema_id = o.schema_id
JOIN {db}.sys.partitions AS p ON p.object_id = o.object_id
JOIN {db}.sys.allocation_units AS au
  ON au.container_id = CASE WHEN au.type = 2 THEN p.partition_id ELSE p.hobt_id END
WHERE o.type = 'U'
GROUP BY s.name, o.name
UNION ALL
SELECT NULL, NULL, NULL, COALESCE(SUM(CAST(a.total_pages AS bigint)), 0) * 8192, NULL, NULL
FROM {db}.sys.allocation_units AS a
"""


def quote_name(name: str) -> str:
    """A database name as a bracketed identifier (] doubled), like QUOTENAME."""
    return "[" + name.replace("]", "]]") + "]"


def table_sizes_sql(database: str) -> str:
    return _TABLE_SIZES_SQL.format(db=quote_name(database))


VERSION_SQL = """
SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
       CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS product_level,
       CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
       @@VERSION AS version_banner
"""

#: Every statement the adapter runs, so the tests can check each one against the catalog
#: (the table statement is checked rendered for a database, see table_sizes_sql).
STATEMENTS = (EDITION_SQL, SIZES_SQL, TEMPDB_SIZES_SQL, VERSION_SQL)

_AUTH_STATES = {"28000"}
# Login failed, password expired / must change, account locked, default database unavailable.
_AUTH_NATIVE = {18456, 18452, 18486, 18487, 18488, 4060, 4064}
_TIMEOUT_STATES = {"HYT00", "HYT01"}
_CONNECTION_STATES = {"08001", "08S01", "08004", "08003", "08007"}
# Object permission denied, no permission for the action, VIEW SERVER STATE / VIEW ANY
# DEFINITION denied, CREATE DATABASE denied, principal cannot access the database.
_PERMISSION_NATIVE = {229, 297, 300, 262, 916}
_NO_DATABASE_ACCESS = 916
_NATIVE_CODE = re.compile(r"\((\d+)\)")
_RECORD_PREFIX = re.compile(r"^\s*\[[0-9A-Z]{5}\]\s*")
_VENDOR_TAGS = re.compile(r"^(?:\[[^\]]*\])+")
_ODBC_CALL = re.compile(r"\s*\((?:SQL\w+)\)\s*$")
# "(0)" is the native error number of a message that has none.
_NO_NATIVE_CODE = re.compile(r"\s*\(0\)\s*$")


def pick_driver(options: dict) -> str:
    """The ODBC driver to use: the one the instance names, else the best installed one."""
    installed = list(pyodbc.drivers())
    wanted = (options or {}).get("odbc_driver")
    if wanted:
        # Only a driver registered with unixODBC, by name: unixODBC would load any library given
        # by path into this process (options.py refuses paths on save already).
        if wanted in installed and "/" not in wanted:
            return wanted
        raise EngineError(
            ErrorKind.UNSUPPORTED,
            _("ODBC driver %(driver)s is not installed on this server (installed: %(installed)s).")
            % {"driver": wanted, "installed": ", ".join(installed) or _("none")},
        )
    microsoft = sorted(
        (name for name in installed if _MICROSOFT_DRIVER.match(name)),
        key=lambda name: int(_MICROSOFT_DRIVER.match(name).group(1)),
        reverse=True,
    )
    if microsoft:
        return microsoft[0]
    for name in installed:
        if name.lower() == FREETDS_DRIVER.lower():
            return name
    raise EngineError(
        ErrorKind.UNSUPPORTED,
        _(
            "No SQL Server ODBC driver is installed on this server; install Microsoft's msodbcsql18 "
            "or FreeTDS (the tdsodbc package) and register it with odbcinst."
        ),
    )


def is_freetds(driver: str) -> bool:
    lowered = driver.lower()
    return "freetds" in lowered or "tdsodbc" in lowered


def odbc_value(value) -> str:
    """A connection-string value, braced so ; { } = and spaces in it cannot break the string.

    ODBC's rule: a value in braces runs to the closing brace, and a } inside is doubled.
    """
    return "{" + str(value).replace("}", "}}") + "}"


def _freetds_safe(name: str, value: str) -> None:
    """FreeTDS before 1.4 ends a braced value at the first }; and does not undouble }}: a value
    holding } could end early and smuggle in keywords (DUMPFILE=…). Refuse rather than risk it."""
    if "}" in value:
        raise EngineError(
            ErrorKind.UNSUPPORTED,
            _("The %(field)s contains a '}', which the FreeTDS driver cannot take safely in a connection string.")
            % {"field": name},
        )


def _yes_no(value) -> str:
    if isinstance(value, str):
        return value.strip().lower()
    return "yes" if value else "no"


def connection_string(params, driver: str) -> str:
    """The ODBC connection string; every value braced (odbc_value), none from outside unchecked.

    The options were validated against the allowlist just before (BaseEngine.connect).
    """
    options = params.options or {}
    freetds = is_freetds(driver)
    parts = [("DRIVER", driver)]
    if freetds:
        parts += [
            ("SERVER", params.host),
            ("PORT", str(int(params.port))),
            ("TDS_Version", str(options.get("tds_version") or DEFAULT_TDS_VERSION)),
        ]
    else:
        parts.append(("SERVER", f"{params.host},{int(params.port)}"))
    parts += [
        ("UID", params.username),
        ("PWD", params.password),
        # master is always there; a login whose default database is offline could not log in otherwise.
        ("DATABASE", options.get("database") or "master"),
        ("APP", APP_NAME),
    ]
    if "encrypt" in options:
        encrypt = _yes_no(options["encrypt"])
        if freetds:
            parts.append(("Encryption", "off" if encrypt in ("no", "false", "optional") else "require"))
        else:
            parts.append(("Encrypt", encrypt))
    if "trust_server_certificate" in options and not freetds:
        # FreeTDS only checks certificates when given a CA file, so the option has no meaning there.
        parts.append(("TrustServerCertificate", _yes_no(options["trust_server_certificate"])))
    if freetds:
        labels = {"UID": _("login name"), "PWD": _("password"), "DATABASE": _("database option")}
        for key, value in parts:
            _freetds_safe(labels.get(key, key), str(value))
    return ";".join(f"{key}={odbc_value(value)}" for key, value in parts) + ";"


def clean_message(text: str) -> str:
    """The driver's diagnostic records as one readable line, without SQLSTATE and vendor tags."""
    records = []
    for record in re.split(r";\s*(?=\[[0-9A-Z]{5}\])", str(text)):
        record = _RECORD_PREFIX.sub("", record)
        record = _VENDOR_TAGS.sub("", record.strip())
        record = _NO_NATIVE_CODE.sub("", _ODBC_CALL.sub("", record))
        record = " ".join(record.split())
        if record and record not in records:
            records.append(record)
    return "; ".join(records)


def _sqlstate_and_text(exc: Exception) -> tuple[str, str]:
    args = getattr(exc, "args", ()) or ()
    if len(args) >= 2 and isinstance(args[0], str) and re.fullmatch(r"[0-9A-Z]{5}", args[0]):
        return args[0], str(args[1])
    return "", " ".join(str(a) for a in args) or type(exc).__name__


class SQLServerEngine(BaseEngine):
    db_type = "sqlserver"
    driver_name = "pyodbc"
    #: One statement per online database, bounded by the table budget.
    table_round_trips = None
    #: the edition check, SIZES_SQL and TEMPDB_SIZES_SQL, each bounded by the connection's query timeout.
    round_trips = 3

    def __init__(self, params):
        super().__init__(params)
        self._driver = ""
        self._rows_file_bytes: dict[str, int] = {}

    def _open(self):
        p = self.params
        self._driver = pick_driver(p.options)
        conn = pyodbc.connect(connection_string(p, self._driver), timeout=int(p.connect_timeout), autocommit=True)
        try:
            conn.timeout = int(p.query_timeout)
        except Exception:
            conn.close()
            raise
        return conn

    def _query(self, sql: str) -> list:
        cur = self._conn.cursor()
        try:
            cur.execute(sql)
            return cur.fetchall()
        finally:
            cur.close()

    def _server_version(self) -> str:
        rows = self._query(VERSION_SQL)
        product_version, product_level, edition, banner = rows[0]
        if product_version:
            level = f" {product_level}" if product_level else ""
            tail = f" - {edition}" if edition else ""
            return f"Microsoft SQL Server {product_version}{level}{tail}"
        lines = (banner or "").strip().splitlines()
        return lines[0].strip() if lines else ""

    def _list_database_sizes(self) -> CollectResult:
        sees_every_database = self._check_edition_and_listing()
        rows = self._query(SIZES_SQL)
        tempdb_files = self._tempdb_files()
        result = rows_to_result(rows, tempdb_files)
        self._rows_file_bytes = rows_file_bytes(rows, tempdb_files)
        if sees_every_database == 0:
            result.listing_complete = False
            result.visible_patterns = [re.compile(re.escape(name), re.IGNORECASE) for name in ALWAYS_LISTED]
            result.warnings.append(
                _(
                    "The login %(login)s lacks VIEW ANY DATABASE: it sees only master, tempdb and the databases it "
                    "owns, so a database missing from its view is not taken as dropped; GRANT VIEW ANY DATABASE "
                    "gives complete figures."
                )
                % {"login": self.params.username}
            )
        return result

    def _check_edition_and_listing(self) -> int | None:
        """Refuse the Azure products without sys.master_files; returns whether the login holds VIEW ANY
        DATABASE (1, 0, or None when the server did not say)."""
        rows = self._query(EDITION_SQL)
        edition, view_any_database = rows[0] if rows else (None, None)
        if edition in AZURE_EDITIONS:
            raise EngineError(
                ErrorKind.UNSUPPORTED,
                _(
                    "%(product)s is not supported: it has no sys.master_files to read file sizes from. "
                    "SQL Server and Azure SQL Managed Instance are."
                )
                % {"product": AZURE_EDITIONS[edition]},
            )
        return view_any_database

    def _list_table_sizes(self, result: CollectResult, deadline: float | None) -> None:
        names = [db.name for db in result.databases if db.name.lower() != "tempdb"]
        query_timeout = int(self.params.query_timeout)
        try:
            for position, name in enumerate(names):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left < 1:
                    result.warnings.append(
                        _("Table sizes budget spent; tables not read in %(names)s.")
                        % {"names": ", ".join(names[position:])}
                    )
                    return
                self._conn.timeout = query_timeout if left is None else max(1, min(query_timeout, int(left)))
                try:
                    rows = self._query(table_sizes_sql(name))
                except pyodbc.Error as exc:
                    state, raw = _sqlstate_and_text(exc)
                    if state in _CONNECTION_STATES:
                        raise
                    natives = {int(n) for n in _NATIVE_CODE.findall(raw)}
                    if _NO_DATABASE_ACCESS in natives:
                        message = _(
                            "Tables of database %(name)s not read: the login cannot enter it (it needs a user "
                            "there or CONNECT ANY DATABASE): %(msg)s"
                        )
                    else:
                        message = _("Tables of database %(name)s not read: %(msg)s")
                    result.warnings.append(message % {"name": name, "msg": self.translate_error(exc).message})
                    continue
                tables, used = table_rows_to_tables(rows)
                result.tables[name] = tables
                self._set_free(result, name, used)
        finally:
            try:
                self._conn.timeout = query_timeout
            except Exception:  # a broken connection is closed next anyway
                pass

    def _set_free(self, result: CollectResult, name: str, used: int | None) -> None:
        rows_bytes = self._rows_file_bytes.get(name)
        if used is None or rows_bytes is None:
            return
        result.databases = [
            dataclasses.replace(db, free_size_bytes=max(0, rows_bytes - used)) if db.name == name else db
            for db in result.databases
        ]

    def _tempdb_files(self):
        """(file_count, data_bytes, log_bytes, rows_bytes) of tempdb now, or why it could not be read."""
        try:
            rows = self._query(TEMPDB_SIZES_SQL)
        except pyodbc.Error as exc:
            state, text = _sqlstate_and_text(exc)
            if state in _TIMEOUT_STATES or state in _CONNECTION_STATES:
                raise
            return clean_message(text)
        return tuple(rows[0]) if rows else (0, 0, 0, 0)

    def translate_error(self, exc: Exception) -> EngineError:
        connecting = self._conn is None
        state, raw = _sqlstate_and_text(exc)
        text = self._redact(clean_message(raw))
        natives = {int(n) for n in _NATIVE_CODE.findall(raw)}
        lowered = raw.lower()
        where = {"host": self.params.host, "port": self.params.port}

        if state == "IM002" or "can't open lib" in lowered or "cannot open lib" in lowered:
            return EngineError(
                ErrorKind.UNSUPPORTED,
                _("ODBC driver %(driver)s is not installed on this server: %(msg)s")
                % {"driver": self._driver or self.params.options.get("odbc_driver", ""), "msg": text},
            )
        if state in _AUTH_STATES or natives & _AUTH_NATIVE:
            if names_login(text, self.params.username):  # "Login failed for user 'x'": said once
                return EngineError(ErrorKind.AUTH, _("SQL Server refused the login: %(msg)s") % {"msg": text})
            return EngineError(
                ErrorKind.AUTH,
                _("SQL Server refused the login %(user)s: %(msg)s") % {"user": self.params.username, "msg": text},
            )
        if state in _TIMEOUT_STATES or "timeout" in lowered or "timed out" in lowered:
            if connecting:
                message = _("No answer from SQL Server at %(host)s:%(port)s in time: %(msg)s")
                return EngineError(ErrorKind.TIMEOUT, message % {**where, "msg": text})
            return EngineError(ErrorKind.TIMEOUT, _("Query timed out: %(msg)s") % {"msg": text})
        if natives & _PERMISSION_NATIVE:
            return EngineError(
                ErrorKind.PERMISSION,
                _("%(msg)s (the login needs VIEW ANY DEFINITION to read sys.master_files)") % {"msg": text},
            )
        if state in _CONNECTION_STATES:
            return EngineError(
                ErrorKind.CONNECTION,
                _("Cannot reach SQL Server at %(host)s:%(port)s: %(msg)s") % {**where, "msg": text},
            )
        if connecting:
            return EngineError(
                ErrorKind.CONNECTION,
                _("Cannot connect to SQL Server at %(host)s:%(port)s: %(msg)s") % {**where, "msg": text},
            )
        return EngineError(ErrorKind.DATA, text)


def rows_file_bytes(rows, tempdb_files=None) -> dict[str, int]:
    """Bytes of each database's row files (type 0), where the room left inside them is measured."""
    found = {row[0]: int(row[6] or 0) for row in rows}
    if isinstance(tempdb_files, tuple):
        for name in found:
            if name.lower() == "tempdb":
                found[name] = int(tempdb_files[3] or 0)
    return found


def table_rows_to_tables(rows) -> tuple[list[TableSize], int | None]:
    """Rows of the table statement -> the tables, and the pages reserved in the database (bytes)."""
    tables, used = [], None
    for schema, table, rows_estimate, data, index, lob in rows:
        if schema is None and table is None:
            used = int(data or 0)
            continue
        data, index, lob = int(data or 0), int(index or 0), int(lob or 0)
        tables.append(
            TableSize(
                schema_name=schema,
                table_name=table,
                rows_estimate=None if rows_estimate is None else int(rows_estimate),
                data_size_bytes=data,
                index_size_bytes=index,
                lob_size_bytes=lob,
                total_size_bytes=data + index + lob,
            )
        )
    return tables, used


def rows_to_result(rows, tempdb_files=None) -> CollectResult:
    """Turn (name, state_desc, source_database_id, file_count, data_bytes, log_bytes, rows_bytes) rows into sizes.

    tempdb_files is tempdb's current (file_count, data_bytes, log_bytes, rows_bytes), or a message
    saying why it could not be read (then master_files' figures stand, with a warning).
    """
    result = CollectResult(databases=[])
    unseen = []
    measured = []
    for name, state, source_database_id, file_count, data_bytes, log_bytes, _rows_bytes in rows:
        if (state or "").upper() != ONLINE:
            result.warnings.append(
                _("Skipped database %(name)s: it is %(state)s.") % {"name": name, "state": state or _("in no state")}
            )
            result.skipped.append(name)
            continue
        if source_database_id is not None:
            # A snapshot's master_files size is the most it could ever take, not what it takes.
            result.warnings.append(_("Skipped database snapshot %(name)s.") % {"name": name})
            result.skipped.append(name)
            continue
        data_bytes, log_bytes, file_count = int(data_bytes or 0), int(log_bytes or 0), int(file_count or 0)
        if name.lower() == "tempdb":
            if isinstance(tempdb_files, tuple):
                file_count, data_bytes, log_bytes = (int(v or 0) for v in tempdb_files[:3])
            elif tempdb_files:
                result.warnings.append(
                    _("tempdb measured from its start-up size, its current files could not be read: %(msg)s")
                    % {"msg": tempdb_files}
                )
        if file_count == 0:
            unseen.append(name)
            continue
        measured.append(
            DatabaseSize(
                name=name,
                size_bytes=data_bytes + log_bytes,
                data_size_bytes=data_bytes,
                index_size_bytes=None,
                log_size_bytes=log_bytes,
                is_system=name.lower() in SYSTEM_DATABASES,
                allocated_size_bytes=data_bytes + log_bytes,
            )
        )
    # tempdb's own files are readable by everyone, so it proves nothing about master_files.
    if unseen and not any(db.name.lower() != "tempdb" for db in measured):
        raise EngineError(
            ErrorKind.PERMISSION,
            _(
                "The login sees %(n)d databases but none of their files; grant it VIEW ANY DEFINITION "
                "(sizes come from sys.master_files)."
            )
            % {"n": len(unseen)},
        )
    for name in unseen:
        result.warnings.append(_("Skipped database %(name)s: the login cannot see its files.") % {"name": name})
        result.skipped.append(name)
    result.databases = measured
    return result
