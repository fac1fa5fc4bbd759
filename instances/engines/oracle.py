"""Oracle through python-oracledb in thin mode (no Oracle client libraries on the platform).

What a "database" is on Oracle:

* On a non-CDB, or when the instance is configured with a PDB's service, one row per
  tablespace: that is the unit an Oracle DBA adds space to and watches fill up.
* On a CDB root (CON_NAME is CDB$ROOT), one row per container: CDB$ROOT itself and each PDB,
  summed over their tablespaces through the CDB_* views.

For every row, size_bytes is the space allocated on disk (data files, plus temp files for
temporary tablespaces) and data_size_bytes the space used by segments (DBA_SEGMENTS). The
allocated figure is what capacity is planned against, since Oracle never hands freed extents
back to the file system; the used figure shows how much room is left inside. Temporary
tablespaces report no used bytes: their sort segments come and go with the sessions.
index_size_bytes and log_size_bytes stay empty (redo logs belong to the instance, not to a
tablespace or a PDB).
"""

import re
import threading

import oracledb
from django.utils.translation import gettext as _

from ..choices import ErrorKind
from .base import BaseEngine, CollectResult, DatabaseSize, EngineError

CDB_ROOT = "CDB$ROOT"
PDB_SEED = "PDB$SEED"
SYSTEM_CONTAINERS = frozenset({CDB_ROOT, PDB_SEED})
SYSTEM_TABLESPACES = frozenset({"SYSTEM", "SYSAUX"})
MOUNTED = "MOUNTED"
OFFLINE = "OFFLINE"

CON_NAME_SQL = "SELECT SYS_CONTEXT('USERENV', 'CON_NAME') AS con_name FROM dual"

# One row per tablespace. Files and segments are summed in their own subqueries before the
# join, so a tablespace with several files does not multiply its segments (and vice versa).
TABLESPACE_SIZES_SQL = """
WITH data_files AS (
    SELECT tablespace_name, COUNT(*) AS file_count, SUM(bytes) AS bytes
    FROM dba_data_files
    GROUP BY tablespace_name
), temp_files AS (
    SELECT tablespace_name, COUNT(*) AS file_count, SUM(bytes) AS bytes
    FROM dba_temp_files
    GROUP BY tablespace_name
), segments AS (
    SELECT tablespace_name, SUM(bytes) AS bytes
    FROM dba_segments
    GROUP BY tablespace_name
)
SELECT t.tablespace_name,
       t.contents,
       t.status,
       NVL(df.file_count, 0) + NVL(tf.file_count, 0) AS file_count,
       NVL(df.bytes, 0) + NVL(tf.bytes, 0) AS allocated_bytes,
       NVL(s.bytes, 0) AS used_bytes
FROM dba_tablespaces t
LEFT JOIN data_files df ON df.tablespace_name = t.tablespace_name
LEFT JOIN temp_files tf ON tf.tablespace_name = t.tablespace_name
LEFT JOIN segments s ON s.tablespace_name = t.tablespace_name
ORDER BY t.tablespace_name
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
), segments AS (
    SELECT con_id, SUM(bytes) AS bytes
    FROM cdb_segments
    GROUP BY con_id
)
SELECT c.name,
       c.open_mode,
       NVL(df.file_count, 0) + NVL(tf.file_count, 0) AS file_count,
       NVL(df.bytes, 0) + NVL(tf.bytes, 0) AS allocated_bytes,
       NVL(s.bytes, 0) AS used_bytes
FROM containers c
LEFT JOIN data_files df ON df.con_id = c.con_id
LEFT JOIN temp_files tf ON tf.con_id = c.con_id
LEFT JOIN segments s ON s.con_id = c.con_id
ORDER BY c.con_id
"""

# Tried in order: VERSION_FULL exists from 18c, V$INSTANCE needs SELECT_CATALOG_ROLE, and
# PRODUCT_COMPONENT_VERSION is readable by everyone.
VERSION_FULL_SQL = "SELECT version_full FROM v$instance"
VERSION_SQL = "SELECT version FROM v$instance"
PRODUCT_VERSION_SQL = (
    "SELECT product, version FROM product_component_version WHERE product LIKE 'Oracle%' ORDER BY product"
)

#: Every statement the adapter runs, so the tests can check each one against the catalog.
STATEMENTS = (CON_NAME_SQL, TABLESPACE_SIZES_SQL, CDB_SIZES_SQL, VERSION_FULL_SQL, VERSION_SQL, PRODUCT_VERSION_SQL)

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
    #: CON_NAME_SQL, then TABLESPACE_SIZES_SQL or CDB_SIZES_SQL, each bounded by call_timeout.
    round_trips = 2

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
            return container_rows_to_result(self._query(CDB_SIZES_SQL))
        return tablespace_rows_to_result(self._query(TABLESPACE_SIZES_SQL))

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


def tablespace_rows_to_result(rows) -> CollectResult:
    """Turn (tablespace_name, contents, status, file_count, allocated_bytes, used_bytes) rows into sizes."""
    if not rows:
        raise EngineError(
            ErrorKind.PERMISSION,
            _("The login sees no tablespaces; grant it SELECT_CATALOG_ROLE (sizes come from DBA_DATA_FILES)."),
        )
    result = CollectResult(databases=[])
    for name, contents, status, file_count, allocated, used in rows:
        if (status or "").upper() == OFFLINE:
            # An offline tablespace's files report no size; a zero would read as a collapse.
            result.warnings.append(_("Skipped tablespace %(name)s: it is OFFLINE.") % {"name": name})
            result.skipped.append(name)
            continue
        if not int(file_count or 0):
            result.warnings.append(_("Skipped tablespace %(name)s: it has no files.") % {"name": name})
            result.skipped.append(name)
            continue
        result.databases.append(
            DatabaseSize(
                name=name,
                size_bytes=int(allocated or 0),
                data_size_bytes=int(used or 0),
                is_system=_is_system_tablespace(name, contents),
            )
        )
    return result


def container_rows_to_result(rows) -> CollectResult:
    """Turn (container_name, open_mode, file_count, allocated_bytes, used_bytes) rows into sizes."""
    result = CollectResult(databases=[])
    hidden = []
    for name, open_mode, file_count, allocated, used in rows:
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
        result.databases.append(
            DatabaseSize(
                name=name,
                size_bytes=int(allocated or 0),
                data_size_bytes=int(used or 0),
                is_system=(name or "").upper() in SYSTEM_CONTAINERS,
            )
        )
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
