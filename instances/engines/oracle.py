"""Oracle through python-oracledb in thin mode (no Oracle client libraries on the platform).

What a "database" is on Oracle:

* On a non-CDB, or when the instance is configured with a PDB's service, one row per
  tablespace: that is the unit an Oracle DBA adds space to and watches fill up.
* On a CDB root (CON_NAME is CDB$ROOT), one row per container: CDB$ROOT itself and each PDB,
  summed over their tablespaces through the CDB_* views.

For every row, size_bytes (and allocated_size_bytes) is the space allocated on disk (data
files, plus temp files for temporary tablespaces) and data_size_bytes the space used by
segments (DBA_SEGMENTS); free_size_bytes is the difference. The allocated figure is what
capacity is planned against, since Oracle never hands freed extents back to the file system;
the used figure shows how much room is left inside. Temporary tablespaces report no used
bytes (and no free bytes): their sort segments come and go with the sessions.
index_size_bytes and log_size_bytes stay empty (redo logs belong to the instance, not to a
tablespace or a PDB).

The file sums and the segment sum are separate statements. When the segment scan runs out of
time (a large CDB), the allocated sizes are still recorded, with a warning: data_size_bytes
then carries the allocated figure (used is unknown, so nothing is shown as free) and
free_size_bytes is None, and the tables are not read.

Tables (list_database_sizes(tables=True)): one statement over DBA_SEGMENTS (CDB_SEGMENTS on a
root) with every index and LOB segment attributed to its table (DBA_INDEXES.TABLE_NAME,
DBA_LOBS.TABLE_NAME), per owner and table, within each tablespace (or container), bounded by
the query timeout and the table budget.

Servers before 12.1 cannot be reached in thin mode: they fail as `unsupported` (DPY-3010).
"""

import re
import threading
import time

import oracledb
from django.utils.translation import gettext as _

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError, TableSize

CDB_ROOT = "CDB$ROOT"
PDB_SEED = "PDB$SEED"
SYSTEM_CONTAINERS = frozenset({CDB_ROOT, PDB_SEED})
SYSTEM_TABLESPACES = frozenset({"SYSTEM", "SYSAUX"})
MOUNTED = "MOUNTED"
OFFLINE = "OFFLINE"

CON_NAME_SQL = "SELECT SYS_CONTEXT('USERENV', 'CON_NAME') AS con_name FROM dual"

# One row per tablespace with its files: what is allocated on disk. The used bytes
# (DBA_SEGMENTS) are a statement of their own, so a segment scan that runs out of time on a
# large database does not take the allocated sizes with it.
TABLESPACE_SIZES_SQL = """
WITH data_files AS (
    SELECT tablespace_name, COUNT(*) AS file_count, SUM(bytes) AS bytes
    FROM dba_data_files
    GROUP BY tablespace_name
), temp_files AS (
    SELECT tablespace_name, COUNT(*) AS file_count, SUM(bytes) AS bytes
    FROM dba_temp_files
    GROUP BY tablespace_name
)
SELECT t.tablespace_name,
       t.contents,
       t.status,
       NVL(df.file_count, 0) + NVL(tf.file_count, 0) AS file_count,
       NVL(df.bytes, 0) + NVL(tf.bytes, 0) AS allocated_bytes
FROM dba_tablespaces t
LEFT JOIN data_files df ON df.tablespace_name = t.tablespace_name
LEFT JOIN temp_files tf ON tf.tablespace_name = t.tablespace_name
ORDER BY t.tablespace_name
"""

# Bytes used by segments per tablespace.
TABLESPACE_USED_SQL = """
SELECT tablespace_name, SUM(bytes) AS used_bytes
FROM dba_segments
GROUP BY tablespace_name
"""

# One row per container seen from the root. V$PDBS lists the PDBs only, so the root is added
# by hand (its CON_ID is always 1). CDB_* views only return rows of open containers, and of
# other containers only when the login's CONTAINER_DATA attribute lets it see them.
CDB_SIZES_SQL = """
WITH containers AS (
    SELECT 1 AS con_id, 'CDB$ROOT' AS name, 'READ WRITE' AS open_mode FROM dual
    UNION ALL
    SELECT p.con_id, p.name, p.open_mode FROM v$pdbs p
), data_files AS (
    SELECT con_id, COUNT(*) AS file_count, SUM(bytes) AS bytes
    FROM cdb_data_files
    GROUP BY con_id
), temp_files AS (
    SELECT con_id, COUNT(*) AS file_count, SUM(bytes) AS bytes
    FROM cdb_temp_files
    GROUP BY con_id
)
SELECT c.name,
       c.open_mode,
       NVL(df.file_count, 0) + NVL(tf.file_count, 0) AS file_count,
       NVL(df.bytes, 0) + NVL(tf.bytes, 0) AS allocated_bytes,
       c.con_id
FROM containers c
LEFT JOIN data_files df ON df.con_id = c.con_id
LEFT JOIN temp_files tf ON tf.con_id = c.con_id
ORDER BY c.con_id
"""

# Bytes used by segments per container.
CDB_USED_SQL = """
SELECT con_id, SUM(bytes) AS used_bytes
FROM cdb_segments
GROUP BY con_id
"""

# Table sizes: every table, index and LOB segment, summed per owner and segment name, then
# attributed to its table: an index (or a LOB index) through DBA_INDEXES.TABLE_NAME, a LOB
# segment through DBA_LOBS.TABLE_NAME. Index segments of LOB indexes (index_type 'LOB') count
# as LOB. Undo, temporary, rollback and cluster segments belong to no table. Grouped by
# tablespace, since a tablespace is the "database" here: a table whose partitions or indexes
# lie in several tablespaces is one row in each, with the bytes it holds there.
# rows_estimate is DBA_TABLES.NUM_ROWS (optimizer statistics) for the whole table.
_TABLE_SIZES_SQL = """
WITH segments AS (
    SELECT {con_id_col}s.tablespace_name, s.owner, s.segment_name, s.segment_type, SUM(s.bytes) AS bytes
    FROM {prefix}_segments s
    WHERE s.segment_type IN ('TABLE', 'TABLE PARTITION', 'TABLE SUBPARTITION', 'NESTED TABLE',
                             'INDEX', 'INDEX PARTITION', 'INDEX SUBPARTITION', 'LOBINDEX',
                             'LOBSEGMENT', 'LOB PARTITION', 'LOB SUBPARTITION')
    GROUP BY {con_id_col}s.tablespace_name, s.owner, s.segment_name, s.segment_type
), attributed AS (
    SELECT {seg_con_id}sg.tablespace_name,
           COALESCE(i.table_owner, l.owner, sg.owner) AS table_owner,
           COALESCE(i.table_name, l.table_name, sg.segment_name) AS table_name,
           CASE WHEN i.index_name IS NULL AND l.segment_name IS NULL THEN sg.bytes ELSE 0 END AS data_bytes,
           CASE WHEN i.index_name IS NOT NULL AND i.index_type <> 'LOB' THEN sg.bytes ELSE 0 END AS index_bytes,
           CASE WHEN l.segment_name IS NOT NULL OR i.index_type = 'LOB' THEN sg.bytes ELSE 0 END AS lob_bytes
    FROM segments sg
    LEFT JOIN {prefix}_indexes i
      ON (sg.segment_type LIKE 'INDEX%' OR sg.segment_type = 'LOBINDEX')
     AND i.owner = sg.owner AND i.index_name = sg.segment_name{index_con_id}
    LEFT JOIN {prefix}_lobs l
      ON sg.segment_type IN ('LOBSEGMENT', 'LOB PARTITION', 'LOB SUBPARTITION')
     AND l.owner = sg.owner AND l.segment_name = sg.segment_name{lob_con_id}
)
SELECT {key},
       a.table_owner,
       a.table_name,
       t.num_rows,
       SUM(a.data_bytes) AS data_bytes,
       SUM(a.index_bytes) AS index_bytes,
       SUM(a.lob_bytes) AS lob_bytes
FROM attributed a
LEFT JOIN {prefix}_tables t ON t.owner = a.table_owner AND t.table_name = a.table_name{table_con_id}{containers}
GROUP BY {key}, a.table_owner, a.table_name, t.num_rows
ORDER BY 1, 2, 3
"""
TABLE_SIZES_SQL = _TABLE_SIZES_SQL.format(
    prefix="dba",
    con_id_col="",
    seg_con_id="",
    index_con_id="",
    lob_con_id="",
    table_con_id="",
    containers="",
    key="a.tablespace_name",
)
# The same per container from the root; the root's CON_ID is 1, the PDBs' names from V$PDBS.
CDB_TABLE_SIZES_SQL = _TABLE_SIZES_SQL.format(
    prefix="cdb",
    con_id_col="s.con_id, ",
    seg_con_id="sg.con_id, ",
    index_con_id=" AND i.con_id = sg.con_id",
    lob_con_id=" AND l.con_id = sg.con_id",
    table_con_id=" AND t.con_id = a.con_id",
    containers="\nLEFT JOIN v$pdbs p ON p.con_id = a.con_id",
    key="CASE WHEN a.con_id = 1 THEN 'CDB$ROOT' ELSE p.name END",
)

# Tried in order: VERSION_FULL exists from 18c, V$INSTANCE needs SELECT_CATALOG_ROLE, and
# PRODUCT_COMPONENT_VERSION is readable by everyone.
VERSION_FULL_SQL = "SELECT version_full FROM v$instance"
VERSION_SQL = "SELECT version FROM v$instance"
PRODUCT_VERSION_SQL = (
    "SELECT product, version FROM product_component_version WHERE product LIKE 'Oracle%' ORDER BY product"
)

#: Every statement the adapter runs, so the tests can check each one against the catalog.
STATEMENTS = (
    CON_NAME_SQL,
    TABLESPACE_SIZES_SQL,
    TABLESPACE_USED_SQL,
    CDB_SIZES_SQL,
    CDB_USED_SQL,
    TABLE_SIZES_SQL,
    CDB_TABLE_SIZES_SQL,
    VERSION_FULL_SQL,
    VERSION_SQL,
    PRODUCT_VERSION_SQL,
)

# Errors that make a version query fall through to the next one instead of failing.
_VERSION_FALLBACK = {"ORA-00904", "ORA-00942", "ORA-01031"}
# ORA-02003: USERENV has no CON_NAME before 12c, which means a non-CDB.
_NO_CON_NAME = "ORA-02003"

_UNSUPPORTED = {"DPY-3010", "DPY-3015", "ORA-28040"}
_AUTH = {"ORA-01017", "ORA-28000", "ORA-28001", "ORA-01005", "ORA-01004", "DPY-4001"}
_NO_SESSION_GRANT = {"ORA-01045"}
_NO_DICTIONARY = {"ORA-01031", "ORA-00942"}
_UNKNOWN_SERVICE = {"DPY-6001", "ORA-12514"}
_UNKNOWN_SID = {"DPY-6003", "ORA-12505"}
_TIMEOUT = {"DPY-4024", "DPI-1067", "ORA-12170", "ORA-01013", "ORA-03136"}
_CONNECTION = {
    "DPY-4011", "DPY-6000", "DPY-6005", "DPY-6006", "DPY-4000", "DPY-4017", "DPY-4027",
    "ORA-03113", "ORA-03114", "ORA-03135", "ORA-12154", "ORA-01033", "ORA-01034", "ORA-01089",
}  # fmt: skip
_ERROR_CODE = re.compile(r"\b((?:ORA|DPY|DPI)-\d{4,5})\b")
_LISTENER_ERROR = re.compile(r"^ORA-125\d\d$")
_CONNECTION_ID = re.compile(r"\s*\(CONNECTION_ID=[^)]*\)")


def error_codes(exc: Exception) -> tuple[set[str], str]:
    """Every ORA-/DPY-/DPI- code an oracledb exception carries, and its message on one line.

    oracledb puts an error object in args[0] with .full_code ("ORA-01017", "DPY-6005"), .code
    (the ORA number, 0 for driver errors) and .message, where a driver error wraps the cause
    (e.g. DPY-4011 over ORA-12537) on further lines.
    """
    err = exc.args[0] if getattr(exc, "args", None) else None
    message = str(getattr(err, "message", None) or err or exc)
    codes = set(_ERROR_CODE.findall(message))
    full_code = getattr(err, "full_code", "") or ""
    if full_code:
        codes.add(full_code)
    code = getattr(err, "code", 0) or 0
    if isinstance(code, int) and code > 0:
        codes.add(f"ORA-{code:05d}")
    lines = [line.strip() for line in message.splitlines() if line.strip() and not line.strip().startswith("Help:")]
    return codes, _CONNECTION_ID.sub("", " ".join(lines))


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:  # the connection is unwanted either way
        pass


def call_with_deadline(fn, seconds: float, on_timeout):
    """Run fn in a worker thread and give up after `seconds`.

    Thin mode bounds only the TCP connect with tcp_connect_timeout; the TNS handshake that
    follows waits without limit, so a listener that accepts and never answers would hang the
    collection. The abandoned worker ends when the peer closes the socket, and closes the
    connection itself if it does get one after all.
    """
    box: dict = {}
    lock = threading.Lock()
    finished = threading.Event()

    def run():
        try:
            result = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        else:
            with lock:
                if box.get("abandoned"):
                    _close_quietly(result)
                else:
                    box["result"] = result
        finally:
            finished.set()

    worker = threading.Thread(target=run, name="oracle-connect", daemon=True)
    worker.start()
    if not finished.wait(seconds):
        with lock:
            if "result" not in box and "error" not in box:
                box["abandoned"] = True
        if box.get("abandoned"):
            raise on_timeout()
    if "error" in box:
        raise box["error"]
    return box["result"]


class OracleEngine(BaseEngine):
    db_type = "oracle"
    driver_name = "oracledb"
    #: CON_NAME_SQL, the file sums, then the used bytes (DBA_SEGMENTS), each bounded by call_timeout.
    round_trips = 3
    #: One statement for every table of the instance, bounded by the query timeout and the budget.
    table_round_trips = 1

    def __init__(self, params):
        super().__init__(params)
        #: The table statement for what list_database_sizes found (a CDB root or not); None when
        #: the used bytes timed out, since the table statement scans the same segments.
        self._tables_sql: str | None = None

    def connect_params(self) -> "oracledb.ConnectParams":
        p = self.params
        options = p.options or {}
        service_name, sid = options.get("service_name"), options.get("sid")
        if not service_name and not sid:
            raise EngineError(
                ErrorKind.CONNECTION,
                _("Oracle instance %(name)s needs a service_name or a sid in its options.")
                % {"name": p.name or p.host},
            )
        return oracledb.ConnectParams(
            host=p.host,
            port=int(p.port),
            service_name=service_name or None,
            sid=None if service_name else sid,
            protocol=options.get("protocol") or "tcp",
            tcp_connect_timeout=float(p.connect_timeout),
            retry_count=0,
        )

    def _open(self):
        p = self.params
        params = self.connect_params()

        def timed_out():
            return EngineError(
                ErrorKind.TIMEOUT,
                _("No answer from the Oracle listener at %(host)s:%(port)s within %(seconds)s seconds.")
                % {"host": p.host, "port": p.port, "seconds": p.connect_timeout},
            )

        conn = call_with_deadline(
            lambda: oracledb.connect(user=p.username, password=p.password, params=params),
            float(p.connect_timeout),
            timed_out,
        )
        try:
            conn.call_timeout = int(p.query_timeout) * 1000
        except Exception:
            _close_quietly(conn)
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
        for sql in (VERSION_FULL_SQL, VERSION_SQL):
            try:
                rows = self._query(sql)
            except oracledb.DatabaseError as exc:
                if error_codes(exc)[0] & _VERSION_FALLBACK:
                    continue
                raise
            if rows and rows[0][0]:
                return f"Oracle Database {rows[0][0]}"
        rows = self._query(PRODUCT_VERSION_SQL)
        if not rows:
            return ""
        product, version = rows[0]
        return f"{product} {version}".strip()

    def container_name(self) -> str | None:
        try:
            rows = self._query(CON_NAME_SQL)
        except oracledb.DatabaseError as exc:
            if _NO_CON_NAME in error_codes(exc)[0]:
                return None
            raise
        return rows[0][0] if rows else None

    def _list_database_sizes(self) -> CollectResult:
        if (self.container_name() or "").upper() == CDB_ROOT:
            rows = self._query(CDB_SIZES_SQL)
            used, note = self._used_bytes(CDB_USED_SQL)
            result = container_rows_to_result(rows, used)
            self._tables_sql = CDB_TABLE_SIZES_SQL
        else:
            rows = self._query(TABLESPACE_SIZES_SQL)
            used, note = self._used_bytes(TABLESPACE_USED_SQL)
            result = tablespace_rows_to_result(rows, used)
            self._tables_sql = TABLE_SIZES_SQL
        if note:
            result.warnings.append(note)
            self._tables_sql = None
        return result

    def _used_bytes(self, sql: str) -> tuple[dict | None, str]:
        """Bytes used by segments per tablespace or container, or None and a note when the scan timed out."""
        try:
            rows = self._query(sql)
        except oracledb.DatabaseError as exc:
            error = self.translate_error(exc)
            if error.kind != ErrorKind.TIMEOUT:
                raise
            return None, _(
                "Used bytes not read, the segment scan (DBA_SEGMENTS) ran out of time: sizes are the "
                "allocated bytes of the files, the data size carries them and nothing is shown as free: %(msg)s"
            ) % {"msg": error.message}
        return {key: int(used or 0) for key, used in rows}, ""

    def _list_table_sizes(self, result: CollectResult, deadline: float | None) -> None:
        if self._tables_sql is None:
            result.warnings.append(_("Table sizes not read: the segment scan already ran out of time."))
            return
        query_ms = int(self.params.query_timeout) * 1000
        if deadline is not None:
            left = deadline - time.monotonic()
            if left < 1:
                result.warnings.append(_("Table sizes budget spent; no tables read."))
                return
            self._conn.call_timeout = max(1000, min(query_ms, int(left * 1000)))
        try:
            rows = self._query(self._tables_sql)
        except oracledb.DatabaseError as exc:
            error = self.translate_error(exc)
            if error.kind != ErrorKind.TIMEOUT:
                raise
            result.warnings.append(_("Table sizes not read: %(msg)s") % {"msg": error.message})
            return
        finally:
            try:
                self._conn.call_timeout = query_ms
            except Exception:  # a broken connection is closed next anyway
                pass
        # Every measured tablespace or container gets its list, empty when it holds no table.
        found = table_rows_to_tables(rows)
        result.tables = {db.name: found.get(db.name, []) for db in result.databases}

    def translate_error(self, exc: Exception) -> EngineError:
        connecting = self._conn is None
        codes, text = error_codes(exc)
        text = self._redact(text)
        p = self.params
        options = p.options or {}
        where = {"host": p.host, "port": p.port}

        if codes & _UNSUPPORTED:
            return EngineError(
                ErrorKind.UNSUPPORTED,
                _("This Oracle server cannot be reached in thin mode: %(msg)s") % {"msg": text},
            )
        if codes & _AUTH:
            return EngineError(
                ErrorKind.AUTH, _("Oracle refused the login %(user)s: %(msg)s") % {"user": p.username, "msg": text}
            )
        if codes & _NO_SESSION_GRANT:
            return EngineError(
                ErrorKind.PERMISSION,
                _("The login %(user)s may not open a session; grant it CREATE SESSION: %(msg)s")
                % {"user": p.username, "msg": text},
            )
        if codes & _NO_DICTIONARY:
            return EngineError(
                ErrorKind.PERMISSION,
                _(
                    "The login %(user)s cannot read the data dictionary views; grant it SELECT_CATALOG_ROLE "
                    "(on a CDB root also SET CONTAINER_DATA=ALL): %(msg)s"
                )
                % {"user": p.username, "msg": text},
            )
        if codes & _UNKNOWN_SERVICE:
            return EngineError(
                ErrorKind.CONNECTION,
                _(
                    "The listener at %(host)s:%(port)s does not know the service %(service)s; "
                    "check the instance's service_name option: %(msg)s"
                )
                % {**where, "service": options.get("service_name", ""), "msg": text},
            )
        if codes & _UNKNOWN_SID:
            return EngineError(
                ErrorKind.CONNECTION,
                _(
                    "The listener at %(host)s:%(port)s does not know the SID %(sid)s; "
                    "check the instance's sid option: %(msg)s"
                )
                % {**where, "sid": options.get("sid", ""), "msg": text},
            )
        if codes & _TIMEOUT or "timed out" in text.lower():
            return EngineError(ErrorKind.TIMEOUT, _("Oracle did not answer in time: %(msg)s") % {"msg": text})
        if codes & _CONNECTION or any(_LISTENER_ERROR.match(code) for code in codes):
            return EngineError(
                ErrorKind.CONNECTION,
                _("Cannot reach Oracle at %(host)s:%(port)s: %(msg)s") % {**where, "msg": text},
            )
        if connecting:
            return EngineError(
                ErrorKind.CONNECTION,
                _("Cannot connect to Oracle at %(host)s:%(port)s: %(msg)s") % {**where, "msg": text},
            )
        return EngineError(ErrorKind.DATA, text)


def _is_system_tablespace(name: str, contents: str) -> bool:
    name, contents = (name or "").upper(), (contents or "").upper()
    return name in SYSTEM_TABLESPACES or contents in ("UNDO", "TEMPORARY") or name.startswith("UNDO") or name == "TEMP"


def _database_size(name: str, allocated, used: int | None, is_system: bool, temporary: bool = False) -> DatabaseSize:
    allocated = int(allocated or 0)
    if temporary:  # no used bytes to speak of, and the free room is not a segment matter
        data, free = used or 0, None
    elif used is None:  # the segment scan timed out: carry the allocated figure, nothing free
        data, free = allocated, None
    else:
        data, free = used, max(0, allocated - used)
    return DatabaseSize(
        name=name,
        size_bytes=allocated,
        data_size_bytes=data,
        is_system=is_system,
        allocated_size_bytes=allocated,
        free_size_bytes=free,
    )


def table_rows_to_tables(rows) -> dict[str, list[TableSize]]:
    """Turn (tablespace or container, owner, table, num_rows, data, index, lob) rows into tables."""
    tables: dict[str, list[TableSize]] = {}
    for key, owner, table, num_rows, data, index, lob in rows:
        data, index, lob = int(data or 0), int(index or 0), int(lob or 0)
        tables.setdefault(key, []).append(
            TableSize(
                schema_name=owner,
                table_name=table,
                rows_estimate=None if num_rows is None else int(num_rows),
                data_size_bytes=data,
                index_size_bytes=index,
                lob_size_bytes=lob,
                total_size_bytes=data + index + lob,
            )
        )
    return tables


def tablespace_rows_to_result(rows, used_by_tablespace: dict | None = None) -> CollectResult:
    """Turn (tablespace_name, contents, status, file_count, allocated_bytes) rows into sizes.

    used_by_tablespace is the segment bytes per tablespace, or None when they could not be read.
    """
    if not rows:
        raise EngineError(
            ErrorKind.PERMISSION,
            _("The login sees no tablespaces; grant it SELECT_CATALOG_ROLE (sizes come from DBA_DATA_FILES)."),
        )
    result = CollectResult(databases=[])
    for name, contents, status, file_count, allocated in rows:
        if (status or "").upper() == OFFLINE:
            # An offline tablespace's files report no size; a zero would read as a collapse.
            result.warnings.append(_("Skipped tablespace %(name)s: it is OFFLINE.") % {"name": name})
            result.skipped.append(name)
            continue
        if not int(file_count or 0):
            result.warnings.append(_("Skipped tablespace %(name)s: it has no files.") % {"name": name})
            result.skipped.append(name)
            continue
        used = None if used_by_tablespace is None else used_by_tablespace.get(name, 0)
        temporary = (contents or "").upper() == "TEMPORARY"
        result.databases.append(_database_size(name, allocated, used, _is_system_tablespace(name, contents), temporary))
    return result


def container_rows_to_result(rows, used_by_con_id: dict | None = None) -> CollectResult:
    """Turn (container_name, open_mode, file_count, allocated_bytes, con_id) rows into sizes.

    used_by_con_id is the segment bytes per container, or None when they could not be read.
    """
    result = CollectResult(databases=[])
    hidden = []
    for name, open_mode, file_count, allocated, con_id in rows:
        if (open_mode or "").upper() == MOUNTED:
            result.warnings.append(
                _("Skipped PDB %(name)s: it is MOUNTED, not open, so its files cannot be read.") % {"name": name}
            )
            result.skipped.append(name)
            continue
        if not int(file_count or 0):
            hidden.append(name)
            result.skipped.append(name)
            continue
        used = None if used_by_con_id is None else used_by_con_id.get(con_id, 0)
        result.databases.append(_database_size(name, allocated, used, (name or "").upper() in SYSTEM_CONTAINERS))
    if hidden:
        result.warnings.append(
            _(
                "Skipped containers %(names)s: the login cannot see their files; as SYSDBA run "
                "ALTER USER <login> SET CONTAINER_DATA=ALL CONTAINER=CURRENT."
            )
            % {"names": ", ".join(hidden)}
        )
    if not result.databases:
        raise EngineError(
            ErrorKind.PERMISSION,
            _("The login sees no container's files; grant it SELECT_CATALOG_ROLE and SET CONTAINER_DATA=ALL."),
        )
    return result
