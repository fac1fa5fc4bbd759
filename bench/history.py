"""History benchmark: years of daily rows, then every "now" page and API answer timed under gunicorn.

    bash bench/history.sh                         # 10 M rows on PostgreSQL (100 x 100 x 1000 days)
    bash bench/history.sh --instances 10          # 1 M rows, for development
    bash bench/history.sh --engine mysql --days 200   # MariaDB as the platform database (2 M rows)
    bash bench/history.sh --reuse                 # time again without seeding

Steps, each printed with its wall time:
1. A dedicated platform database (`capacity_bench`, dropped and created again) migrated with the
   project's migrations; on PostgreSQL the monthly partitions of the seeded range are created by the
   project's own partition service, as the nightly job would have created them month by month.
2. Seeding with set-based SQL (generate_series on PostgreSQL, the SEQUENCE engine on MariaDB): one
   row per instance, database and day; every tenth instance lost its last database halfway
   through (a row marked deleted on that day, nothing after). The instance totals, the inventory
   and the instances' last-collection fields are then written from those rows exactly as the
   collection service leaves them, plus one finished sync session. ANALYZE afterwards.
3. The project's aggregation service catches up the weekly, monthly and quarterly aggregates over
   the whole history (`run_aggregation(full=True)`): that is the "catch-up" time.
4. gunicorn (2 sync workers, persistent database connections: `?conn_max_age=60`) serves the project;
   each request is sent 3 times to warm up, then 25 times; p50 and p95 are the client-side wall times.
5. A separate in-process pass (Django's test client, CaptureQueriesContext) counts the queries of each
   request and EXPLAINs its slowest query: the plan's top nodes are printed (`--plans` prints the whole
   EXPLAIN ANALYZE of the range reads).

It asserts nothing about timing. The database is left in place for `--reuse`; `--drop` removes it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_NAME = "capacity_bench"
WARMUP = 3
SAMPLES = 25
DEFAULT_URLS = {
    "postgresql": os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    "mysql": os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql"),
}


def log(message: str) -> None:
    print(message, flush=True)


class Step:
    """`with Step("seeding"):` prints what runs and how long it took."""

    def __init__(self, label: str):
        self.label = label
        self.seconds = 0.0

    def __enter__(self):
        log(f"  {self.label} ...")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        log(f"  {self.label}: {self.seconds:.1f} s")
        return False


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells):
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            out.append(str(cell).ljust(width) if i in (0, len(cells) - 1) else str(cell).rjust(width))
        return "  " + "  ".join(out).rstrip()

    return "\n".join([line(headers), "  " + "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


# --- the platform database ---------------------------------------------------------------------


def platform_url(engine: str) -> str:
    server = urlsplit(DEFAULT_URLS[engine])
    scheme = "postgres" if engine == "postgresql" else "mysql"
    return f"{scheme}://{server.netloc}/{DB_NAME}?conn_max_age=60"


def recreate_database(engine: str) -> None:
    server = urlsplit(DEFAULT_URLS[engine])
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(DEFAULT_URLS[engine], autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        return
    import MySQLdb

    conn = MySQLdb.connect(
        host=server.hostname, port=server.port or 3306, user=server.username or "root", passwd=server.password or ""
    )
    try:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        cursor.execute(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def bench_environment(engine: str) -> dict:
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "capacity_site.settings",
        "DATABASE_URL": platform_url(engine),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "TIME_ZONE": "UTC",
        "LANGUAGE_CODE": "en",
    }


def setup_django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


# --- seeding -----------------------------------------------------------------------------------


class Shape:
    def __init__(self, instances: int, databases: int, days: int):
        self.instances = instances
        self.databases = databases
        self.days = days
        now = datetime.now(UTC)
        # The nightly collection runs at 03:00 UTC: the newest day is today once that has passed.
        self.last_day = now.date() if now.hour >= 3 else now.date() - timedelta(days=1)
        self.first_day = self.last_day - timedelta(days=days - 1)
        # Every tenth instance lost its last database halfway through the history.
        self.vanish_k = days // 2
        self.vanish_day = self.first_day + timedelta(days=self.vanish_k)

    @property
    def rows(self) -> int:
        lost = (self.instances // 10) * (self.days - 1 - self.vanish_k)
        return self.instances * self.databases * self.days - lost

    def at(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


# One size formula for both engines: a base per database, a steady growth per day, some noise.
SIZE_SQL = (
    "((({i} * 37 + {d} * 101) % 200) + 1) * 67108864 + (({i} + {d} * 7) % 13) * 262144 * {k} "
    "+ ((({k}) * 7919 + {d} * 31 + {i}) % 97) * 4096"
)


def _stat_select(engine: str, shape: Shape) -> str:
    """SELECT of every daily row (columns in the INSERT's order), instance ids from the bench instances."""
    vanish = f"(i.id % 10 = 0 AND d.n = {shape.databases} AND k.n = {shape.vanish_k})"
    # The vanished database keeps its last known size (the day before) on its "deleted" row.
    k_size = f"(k.n - CASE WHEN {vanish} THEN 1 ELSE 0 END)"
    size = SIZE_SQL.format(i="i.id", d="d.n", k=k_size)
    if engine == "postgresql":
        day = f"(DATE '{shape.first_day.isoformat()}' + k.n)"
        at = f"(({day} + TIME '03:00') AT TIME ZONE 'UTC')"
        name = "'db_' || lpad(d.n::text, 3, '0')"
        series_k = f"generate_series(0, {shape.days - 1}) AS k(n)"
        series_d = f"generate_series(1, {shape.databases}) AS d(n)"
        size = SIZE_SQL.format(i="i.id::bigint", d="d.n::bigint", k=f"{k_size}::bigint")
    else:
        day = f"DATE_ADD(DATE '{shape.first_day.isoformat()}', INTERVAL k.n DAY)"
        at = f"TIMESTAMP(DATE_ADD(DATE '{shape.first_day.isoformat()}', INTERVAL k.n DAY), '03:00:00')"
        name = "CONCAT('db_', LPAD(d.n, 3, '0'))"
        series_k = f"(SELECT seq AS n FROM seq_0_to_{shape.days - 1}) AS k"
        series_d = f"(SELECT seq AS n FROM seq_1_to_{shape.databases}) AS d"
    # A derived table computes the size once per row (MariaDB has no LATERAL).
    return f"""
        SELECT s.iid, {name.replace("d.n", "s.dn")}, s.size, s.size - s.size DIV 4, s.size DIV 4, NULL,
               s.size + s.size DIV 8, {day.replace("k.n", "s.kn")}, {at.replace("k.n", "s.kn")}, s.vanished,
               CASE WHEN s.vanished THEN {at.replace("k.n", "s.kn")} END, {"false" if engine == "postgresql" else "0"}
          FROM (SELECT i.id AS iid, d.n AS dn, k.n AS kn, {size} AS size, {vanish} AS vanished
                  FROM {series_k}
                 CROSS JOIN (SELECT id FROM instances_instance WHERE name LIKE 'bench-%') AS i
                 CROSS JOIN {series_d}
                 WHERE NOT (i.id % 10 = 0 AND d.n = {shape.databases} AND k.n > {shape.vanish_k})) AS s
    """.replace(" DIV ", " / " if engine == "postgresql" else " DIV ")


def _drop_indexes(cursor) -> list[str]:
    """Drop the history table's keys and indexes (PostgreSQL); returns the statements that recreate them.

    Loading millions of rows and then building each index once is several times faster than
    maintaining four indexes row by row. The statements are read from the catalog, so the table ends
    up with exactly the definitions (and names) the migrations gave it.
    """
    table = "capacity_databasesizestat"
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY contype, conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT ic.relname, pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = %s::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
         ORDER BY ic.relname
        """,
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    restore = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints]
    restore += [definition.replace(" ON ONLY ", " ON ") for _name, definition in indexes]
    return restore


def seed(engine: str, shape: Shape) -> dict:
    """Write the instances, the daily rows, the totals, the inventory and a session. Returns timings."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from capacity.services.partitions import ensure_partitions
    from instances.models import Credential, Instance
    from sync_sessions.models import SyncInstanceRecord, SyncSession

    timings = {}
    last_at = shape.at(shape.last_day)
    with transaction.atomic():
        credential = Credential(name="bench", username="capacity_reader")
        credential.set_password(secrets.token_urlsafe(16))
        credential.save()
        types = ["mysql", "postgresql", "sqlserver", "oracle"]
        Instance.objects.bulk_create(
            [
                Instance(
                    name=f"bench-{n:03d}",
                    db_type=types[n % 4],
                    host=f"db{n:03d}.bench.invalid",
                    credential=credential,
                    options={"service_name": "ORCLPDB1"} if types[n % 4] == "oracle" else {},
                    capacity_limit_bytes=(2 * 1024**4) if n % 2 else None,
                    last_connected=last_at,
                    last_sync_at=last_at,
                    last_sync_status="completed",
                )
                for n in range(1, shape.instances + 1)
            ]
        )
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", secrets.token_urlsafe(16))

    if engine == "postgresql":
        with Step("partitions (the project's partition service)") as step:
            ensure_partitions(shape.first_day.replace(day=1), shape.last_day)
        timings["partitions"] = step.seconds

    columns = (
        "instance_id, database_name, size_bytes, data_size_bytes, index_size_bytes, log_size_bytes, "
        "allocated_size_bytes, collected_date, collected_at, is_deleted, deleted_at, is_carried_over"
    )
    with Step(f"daily rows ({shape.rows:,})") as step, connection.cursor() as cursor:
        saved = _drop_indexes(cursor) if engine == "postgresql" else []
        cursor.execute(f"INSERT INTO capacity_databasesizestat ({columns}) {_stat_select(engine, shape)}")
    timings["daily rows"] = step.seconds
    if saved:
        with Step("indexes and constraints of the daily rows, as the migrations made them") as step:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                for statement in saved:
                    cursor.execute(statement)
        timings["indexes"] = step.seconds

    false = "false" if engine == "postgresql" else "0"
    with Step("instance totals, inventory, session") as step, connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO capacity_instancesizestat
                   (instance_id, total_size_bytes, database_count, user_total_size_bytes, user_database_count,
                    collected_date, collected_at, is_deleted)
            SELECT instance_id, SUM(CASE WHEN is_deleted THEN 0 ELSE size_bytes END),
                   SUM(CASE WHEN is_deleted THEN 0 ELSE 1 END), SUM(CASE WHEN is_deleted THEN 0 ELSE size_bytes END),
                   SUM(CASE WHEN is_deleted THEN 0 ELSE 1 END), collected_date, MAX(collected_at), {false}
              FROM capacity_databasesizestat
             GROUP BY instance_id, collected_date
            """
        )
        first_at = shape.at(shape.first_day)
        before_vanish = shape.at(shape.vanish_day - timedelta(days=1))
        cursor.execute(
            """
            INSERT INTO capacity_databaseinventory
                   (instance_id, database_name, is_system, first_seen_at, last_seen_at, last_size_bytes,
                    last_data_size_bytes, last_index_size_bytes, last_log_size_bytes, last_allocated_size_bytes,
                    is_deleted, deleted_at, restored_at)
            SELECT instance_id, database_name, %s, %s, CASE WHEN is_deleted THEN %s ELSE collected_at END,
                   size_bytes, data_size_bytes, index_size_bytes, log_size_bytes, allocated_size_bytes,
                   is_deleted, deleted_at, NULL
              FROM capacity_databasesizestat
             WHERE (collected_date = %s AND NOT is_deleted) OR (collected_date = %s AND is_deleted)
            """,
            [False, first_at, before_vanish, shape.last_day, shape.vanish_day],
        )
        session = SyncSession.objects.create(
            sync_type="scheduled",
            status="completed",
            total_instances=shape.instances,
            successful_instances=shape.instances,
        )
        instances = list(Instance.objects.filter(name__startswith="bench-").order_by("pk"))
        totals = dict(
            __import__("capacity.models", fromlist=["InstanceSizeStat"])
            .InstanceSizeStat.objects.filter(collected_date=shape.last_day)
            .values_list("instance_id", "total_size_bytes")
        )
        SyncInstanceRecord.objects.bulk_create(
            [
                SyncInstanceRecord(
                    session=session,
                    instance=inst,
                    instance_name=inst.name,
                    status="completed",
                    databases_count=shape.databases,
                    saved_count=shape.databases,
                    total_size_bytes=totals.get(inst.pk, 0),
                    started_at=last_at,
                    completed_at=last_at + timedelta(seconds=2),
                )
                for inst in instances
            ]
        )
        SyncSession.objects.filter(pk=session.pk).update(
            started_at=last_at,
            completed_at=last_at + timedelta(seconds=40),
            total_databases=shape.instances * shape.databases,
            total_size_bytes=sum(totals.values()),
        )
    timings["totals+inventory"] = step.seconds

    with Step("ANALYZE") as step, connection.cursor() as cursor:
        if engine == "postgresql":
            cursor.execute("ANALYZE")
        else:
            for table in (
                "capacity_databasesizestat",
                "capacity_instancesizestat",
                "capacity_databaseinventory",
                "instances_instance",
            ):
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()
    timings["analyze"] = step.seconds
    timings["user"] = user.pk
    return timings


# --- requests ----------------------------------------------------------------------------------


def requests_to_time(shape: Shape) -> list[tuple[str, str, str]]:
    """(label, path, kind) of every request timed; kind is "instance" for per-instance API requests."""
    from instances.models import Instance

    instance = Instance.objects.filter(name__startswith="bench-").order_by("pk")[shape.instances // 2]
    pk = instance.pk
    year_ago = (shape.last_day - timedelta(days=364)).isoformat()
    last = shape.last_day.isoformat()
    quarter_ago = (shape.last_day - timedelta(days=90)).isoformat()
    base = f"/api/instances/{pk}"
    return [
        ("database-sizes/?latest_only=true", f"{base}/database-sizes/?latest_only=true", "instance"),
        (
            "database-sizes/?latest_only=true, a quarter back",
            f"{base}/database-sizes/?latest_only=true&end_date={quarter_ago}",
            "instance",
        ),
        ("databases/", f"{base}/databases/", "instance"),
        ("admin capacity dashboard", "/admin/capacity/instancesizestat/dashboard/", "page"),
        (
            "database-sizes/summary/ (a year)",
            f"{base}/database-sizes/summary/?start_date={year_ago}&end_date={last}",
            "instance",
        ),
        ("database-sizes/total/", f"{base}/database-sizes/total/", "instance"),
        ("database-sizes/aggregations/?period=month", f"{base}/database-sizes/aggregations/?period=month", "instance"),
        ("forecast/", f"{base}/forecast/", "instance"),
        ("/api/instances/", "/api/instances/", "list"),
        (
            "one database, a year",
            f"{base}/database-sizes/?database_name=db_001&start_date={year_ago}&end_date={last}",
            "instance",
        ),
        ("admin instance capacity page", f"/admin/instances/instance/{pk}/capacity/", "page"),
        (f"/metrics ({shape.instances * shape.databases:,} series)", "/metrics", "metrics"),
        ("/api/capacity/stats/", "/api/capacity/stats/", "list"),
        ("admin database sizes list", "/admin/capacity/databasesizestat/", "page"),
    ]


TARGETS = {"instance": 25, "list": 25, "page": 150, "metrics": 100}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(user_id: int) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(pk=user_id)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def get(port: int, path: str, cookie: str) -> tuple[int, float, int]:
    import http.client

    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": "application/json, text/html"})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, (time.perf_counter() - t0) * 1000, len(body)


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "capacity_site.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}"]
        # A long timeout: a request that takes long should be measured, not killed.
        + ["--log-level", "warning", "--timeout", "600"],
        cwd=ROOT,
        env=os.environ | env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited before it listened")
            time.sleep(0.2)
    raise SystemExit("gunicorn did not listen within 60 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def time_requests(port: int, cookie: str, requests: list[tuple[str, str, str]]) -> dict:
    results = {}
    for label, path, _kind in requests:
        for _i in range(WARMUP):
            status, _ms, _size = get(port, path, cookie)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
        samples = [get(port, path, cookie) for _i in range(SAMPLES)]
        times = [ms for _s, ms, _b in samples]
        results[label] = {
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "bytes": samples[-1][2],
        }
    return results


# --- query counts and plans --------------------------------------------------------------------


def _plan_summary(engine: str, plan) -> str:
    if engine != "postgresql":
        return plan
    root = plan[0]["Plan"]

    def describe(node) -> str:
        kind = node["Node Type"]
        if node.get("Index Name"):
            kind += f" {node['Index Name']}"
        elif node.get("Relation Name") and kind.startswith("Seq"):
            kind += f" {node['Relation Name']}"
        if kind.startswith(("Append", "Merge Append")):
            kept = len(node.get("Plans", []))
            removed = node.get("Subplans Removed", 0)
            kind += f" [{kept} of {kept + removed} partitions]" if removed else f" [{kept}]"
        return kind

    chain = []
    node = root
    while node is not None and len(chain) < 4:
        chain.append(describe(node))
        children = node.get("Plans") or []
        node = children[0] if children else None
    return " > ".join(chain) + f" (est. {root.get('Plan Rows')} rows)"


def explain(engine: str, sql: str, analyze: bool = False):
    from django.db import connection

    with connection.cursor() as cursor:
        if engine == "postgresql":
            if analyze:
                cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}")
                return "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            return json.loads(plan) if isinstance(plan, str) else plan
        cursor.execute(f"EXPLAIN {sql}")
        rows = cursor.fetchall()
        names = [c[0] for c in cursor.description]
        described = []
        for row in rows:
            r = dict(zip(names, row, strict=True))
            described.append(f"{r.get('table')}:{r.get('type')}/{r.get('key') or '-'} rows={r.get('rows')}")
        return "; ".join(described)


def count_queries(engine: str, user_id: int, requests, want_plans: bool) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    out = {}
    for label, path, _kind in requests:
        client.get(path)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        # The request's own reads: not the session and user lookups every logged-in request makes.
        queries = [
            q
            for q in ctx.captured_queries
            if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
            and not any(table in q["sql"] for table in ('"django_session"', '"auth_user"'))
        ]
        main = max(queries, key=lambda q: float(q["time"])) if queries else None
        entry = {"count": len(ctx.captured_queries), "main": "", "sql": ""}
        if main is not None:
            entry["sql"] = main["sql"]
            entry["main_ms"] = float(main["time"]) * 1000
            try:
                entry["main"] = _plan_summary(engine, explain(engine, main["sql"]))
            except Exception as exc:  # an unexplainable statement: say so rather than stop
                entry["main"] = f"(no plan: {type(exc).__name__})"
            if want_plans:
                entry["plan"] = explain(engine, main["sql"], analyze=True) if engine == "postgresql" else entry["main"]
        out[label] = entry
    return out


# --- sizes on disk -----------------------------------------------------------------------------


def table_sizes(engine: str) -> list[tuple[str, int, int, int]]:
    """(table, rows, heap bytes, index bytes) of the history tables."""
    from django.db import connection

    tables = [
        "capacity_databasesizestat",
        "capacity_instancesizestat",
        "capacity_databaseinventory",
        "capacity_databasesizeaggregate",
        "capacity_instancesizeaggregate",
    ]
    out = []
    with connection.cursor() as cursor:
        for table in tables:
            if engine == "postgresql":
                cursor.execute(
                    """
                    SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint,
                           coalesce(sum(pg_table_size(c.oid)), 0)::bigint,
                           coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint
                      FROM pg_class c
                     WHERE c.oid = %s::regclass AND c.relkind = 'r'
                        OR c.oid IN (SELECT relid FROM pg_partition_tree(%s::regclass) WHERE isleaf)
                    """,
                    [table, table],
                )
            else:
                cursor.execute(
                    "SELECT table_rows, data_length, index_length FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = %s",
                    [table],
                )
            rows, heap, index = cursor.fetchone()
            out.append((table, int(rows), int(heap), int(index)))
    return out


def mib(value: int) -> str:
    return f"{value / 1024 / 1024:,.0f}"


# --- main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgresql", "mysql"], default="postgresql")
    parser.add_argument("--database", default="capacity_bench", help="name of the benchmark's platform database")
    parser.add_argument("--rows", type=int, help="daily rows wanted (sets --days for the instances and databases)")
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--databases", type=int, default=100)
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--reuse", action="store_true", help="time the database seeded by the previous run")
    parser.add_argument("--plans", action="store_true", help="print EXPLAIN ANALYZE of every request's main query")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database at the end")
    parser.add_argument(
        "--no-catch-up",
        action="store_true",
        help="skip the timed aggregation over the whole history (each instance's aggregates then catch up "
        "on the first aggregations request)",
    )
    args = parser.parse_args(argv)
    global DB_NAME
    DB_NAME = args.database
    if args.rows:
        args.days = max(1, args.rows // (args.instances * args.databases))
    shape = Shape(args.instances, args.databases, args.days)
    t_start = time.perf_counter()

    env = bench_environment(args.engine)
    log("Capacity history benchmark")
    log(
        f"  platform database: {args.engine} `{DB_NAME}`; {args.instances} instances x {args.databases} databases x "
        f"{args.days} days = {shape.rows:,} daily rows ({shape.first_day} .. {shape.last_day})"
    )
    timings = {}
    if not args.reuse:
        recreate_database(args.engine)
    setup_django(env)
    from django.core.management import call_command
    from django.db import connection

    from capacity.services.aggregate import run_aggregation

    if not args.reuse:
        with Step("migrate") as step:
            call_command("migrate", verbosity=0)
        timings["migrate"] = step.seconds
        seeded = seed(args.engine, shape)
        user_id = seeded.pop("user")
        timings.update(seeded)
        if not args.no_catch_up:
            with Step("aggregate catch-up over the whole history (run_aggregation(full=True))") as step:
                result = run_aggregation(full=True)
            timings["aggregate catch-up"] = step.seconds
            log(f"    {result.database_periods:,} database periods, {result.instance_periods:,} instance periods")
    else:
        from django.contrib.auth import get_user_model

        user_id = get_user_model().objects.get(username="bench").pk
        from instances.models import Instance

        shape.instances = Instance.objects.filter(name__startswith="bench-").count()

    connection.ensure_connection()
    log(f"  server: {connection.display_name} {connection.get_database_version()}")

    requests = requests_to_time(shape)
    cookie = session_cookie(user_id)
    port = free_port()
    process = start_gunicorn(env, port)
    try:
        with Step(f"timing {len(requests)} requests ({WARMUP} warm-up + {SAMPLES} each, gunicorn -w 2)"):
            timed = time_requests(port, cookie, requests)
    finally:
        stop_gunicorn(process)
    with Step("query counts and plans (in-process test client)"):
        counted = count_queries(args.engine, user_id, requests, args.plans)

    rows = []
    for label, _path, kind in requests:
        t, q = timed[label], counted[label]
        target = TARGETS[kind]
        rows.append(
            [
                label,
                f"{t['p50']:.1f}",
                f"{t['p95']:.1f}",
                str(target),
                "yes" if t["p95"] <= target else "NO",
                str(q["count"]),
                q["main"],
            ]
        )
    log("")
    log(f"Requests (ms, client-side wall time; {SAMPLES} after {WARMUP} warm-up; queries from a separate pass)")
    log(render_table(["request", "p50", "p95", "target", "met", "queries", "main query plan (top nodes)"], rows))
    if "aggregate catch-up" in timings:
        log("")
        log(f"Aggregate catch-up over the whole history: {timings['aggregate catch-up']:.1f} s (target 60 s)")
        log("Seeding: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if k != "aggregate catch-up"))
    log("")
    sizes = table_sizes(args.engine)
    log("Tables (rows are the server's estimates)")
    log(
        render_table(
            ["table", "rows", "heap MiB", "index MiB", "bytes/row"],
            [[t, f"{r:,}", mib(h), mib(i), f"{(h + i) / r:,.0f}" if r else "-"] for t, r, h, i in sizes],
        )
    )
    if args.plans:
        for label, _path, _kind in requests:
            log("")
            log(f"== {label}: {counted[label]['sql'][:300]}")
            log(counted[label].get("plan", ""))
    log("")
    log(f"Total run time {time.perf_counter() - t_start:.0f} s")
    if args.drop:
        connection.close()
        recreate_database(args.engine)  # leaves an empty database behind; dropping it fully:
        if args.engine == "postgresql":
            import psycopg

            with psycopg.connect(DEFAULT_URLS["postgresql"], autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
