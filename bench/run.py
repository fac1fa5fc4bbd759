"""Benchmark of the collection path: a fleet in-process and through the task cluster, and a save's query count.

    bash bench/run.sh                    # a short run (48 instances), about two minutes
    bash bench/run.sh --instances 1000   # the full fleet
    .venv/bin/python bench/run.py --help

Part 1 registers a fleet of MariaDB and PostgreSQL instances, each behind its own port of a
latency-adding TCP proxy (bench/latency_proxy.py), on PostgreSQL as the platform database, and
times a whole-fleet collection:
- in-process (`collect()`, as collect_sizes runs it) at concurrency 8, 32 and 64;
- through the task cluster (`start_queued_collection`, as the nightly run and the API queue it:
  one task per instance on Redis) with 1 and with 2 `qcluster` processes of Q_WORKERS workers
  each (one instance per worker process at a time, no threads per task).
It reports wall time, instances per second and the speed-up against the ideal: the per-instance
time measured alone (concurrency 1, on a sample) overlapping perfectly, i.e. instances x t1 /
concurrency. In-process rows also give the platform queries per instance. Then it SIGKILLs one of
two clusters' whole process group mid-run and shows that the session still ends with every
instance settled once (the sweeper fails the killed cluster's running instances and queues
again the tasks it had prefetched).

Part 2 counts the platform-database queries of one instance's `save_sizes()` with a synthetic
result of 10, 100 and 1000 databases: the first save, a second save the same day and a save
the next day with a tenth of the databases gone. It also times the first save and measures its
Python memory peak (tracemalloc) on a separate run, so the tracing does not skew the timing.

The platform database is a temporary PostgreSQL database (`--platform sqlite` for a SQLite
file); targets are throwaway databases and logins with a random prefix on the local servers.
All of it is removed at the end, on failure and on Ctrl-C/SIGTERM too. The run prints; it
asserts nothing about timing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from targets import MariaDBTarget, PostgresTarget  # noqa: E402  (bench/ is the script's directory)


class BenchError(Exception):
    """The benchmark could not produce meaningful numbers (a target failed, a server is missing)."""


# --- output --------------------------------------------------------------------------------


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: first column left-aligned, the numbers right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells):
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            out.append(str(cell).ljust(width) if i == 0 else str(cell).rjust(width))
        return "  " + "  ".join(out).rstrip()

    return "\n".join([line(headers), "  " + "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


# --- platform database ---------------------------------------------------------------------


def setup_django(database_url: str, queue_name: str) -> None:
    """Point the settings at the benchmark's own platform database and migrate it.

    Environment variables win over `.env` (the settings read it without overwriting), so the
    run never touches the real platform database; the keys are throwaway ones. The qclusters
    started later inherit this environment.
    """
    from cryptography.fernet import Fernet

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")]))
    os.environ["DATABASE_URL"] = database_url
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["CREDENTIAL_KEYS"] = Fernet.generate_key().decode()
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["BENCH_Q_NAME"] = queue_name
    os.environ.pop("Q_SYNC", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def platform_database(args, prefix: str, workdir: Path, cleanups: list) -> str:
    """A DATABASE_URL for a fresh platform database (PostgreSQL by default), dropped at the end."""
    if args.platform == "sqlite":
        return f"sqlite:///{workdir / 'platform.sqlite3'}"
    admin = PostgresTarget(prefix)
    name = f"{prefix}_platform"
    admin._execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        admin._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    cleanups.append(("platform database", drop))
    auth = admin.admin_user + (f":{admin.admin_password}" if admin.admin_password else "")
    return f"postgres://{auth}@{admin.host}:{admin.port}/{name}"


# --- the latency proxy, in its own process so it never competes for the collector's GIL ----


class ProxyProcess:
    def __init__(self, upstreams: list[tuple[str, int]], delay_ms: float):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(BENCH_DIR / "latency_proxy.py"),
                "--delay-ms",
                str(delay_ms),
                *(f"{host}:{port}" for host, port in upstreams),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise BenchError("the latency proxy did not start")
        self.ports: list[int] = json.loads(line)["ports"]

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.stdin.close()  # the proxy stops when its stdin closes
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=5)


# --- part 1: fleet speed-up ----------------------------------------------------------------


def build_fleet(count: int, maria_login, pg_login, ports: list[int]):
    from instances import binding
    from instances.choices import DbType
    from instances.models import Credential, Instance

    credentials = {}
    for db_type, login in ((DbType.MYSQL, maria_login), (DbType.POSTGRESQL, pg_login)):
        credential = Credential(name=f"bench-{db_type}", username=login.username)
        credential.set_password(login.password)
        credential.save()
        credentials[db_type] = credential

    half = count // 2
    fleet = []
    for i, port in enumerate(ports):
        db_type = DbType.MYSQL if i < half else DbType.POSTGRESQL
        label = "mariadb" if db_type == DbType.MYSQL else "postgresql"
        number = i + 1 if i < half else i - half + 1
        fleet.append(
            Instance.objects.create(
                name=f"bench-{label}-{number:02d}",
                db_type=db_type,
                host="127.0.0.1",
                port=port,
                credential=credentials[db_type],
            )
        )
        # The credential may be sent only to targets approved for it (instances.binding), as an
        # administrator saving the instance would approve it.
        binding.approve(fleet[-1], note="benchmark fleet")
    return fleet


class QueryCounter:
    """Counts every platform-database statement of this process, from any thread."""

    def __init__(self):
        import threading

        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self):
        from django.db.backends import utils

        self._saved = utils.CursorWrapper.execute, utils.CursorWrapper.executemany
        counter = self

        def execute(cursor, sql, params=None):
            with counter._lock:
                counter.count += 1
            return counter._saved[0](cursor, sql, params)

        def executemany(cursor, sql, param_list):
            with counter._lock:
                counter.count += 1
            return counter._saved[1](cursor, sql, param_list)

        utils.CursorWrapper.execute, utils.CursorWrapper.executemany = execute, executemany
        return self

    def __exit__(self, *exc):
        from django.db.backends import utils

        utils.CursorWrapper.execute, utils.CursorWrapper.executemany = self._saved


def _session_outcome(session) -> dict:
    from sync_sessions.choices import RecordStatus

    records = list(session.records.all())
    by_status: dict[str, int] = {}
    for r in records:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    failed = [r for r in records if r.status != RecordStatus.COMPLETED]
    return {
        "records": len(records),
        "completed": by_status.get(RecordStatus.COMPLETED, 0),
        "open": by_status.get(RecordStatus.PENDING, 0) + by_status.get(RecordStatus.RUNNING, 0),
        "failed": len(failed),
        "first_failure": f"{failed[0].instance_name}: {failed[0].error_kind} - {failed[0].error[:90]}"
        if failed
        else "",
    }


def timed_collect(fleet, concurrency: int) -> tuple[float, dict, int]:
    from capacity.services.collect import collect

    with QueryCounter() as queries:
        started = time.perf_counter()
        session = collect(fleet, concurrency=concurrency)
        elapsed = time.perf_counter() - started
    return elapsed, _session_outcome(session), queries.count


class Clusters:
    """`count` qcluster processes, each in its own process group (so one can be SIGKILLed whole)."""

    def __init__(self, count: int, workers: int, logdir: Path):
        self.procs = []
        for n in range(count):
            log = open(logdir / f"qcluster-{n}.log", "w")  # noqa: SIM115 (closed in stop)
            env = {**os.environ, "Q_WORKERS": str(workers)}
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.procs.append((proc, log))

    def kill(self, index: int) -> None:
        proc, _log = self.procs[index]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop(self) -> None:
        for proc, _log in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for index, (proc, log) in enumerate(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill(index)
            log.close()


def _wait_for_session(session_pk: int, limit: float, sweep_every: float | None = None):
    from capacity.services.collect import sweep_collections
    from sync_sessions.choices import SessionStatus
    from sync_sessions.models import SyncSession

    deadline = time.perf_counter() + limit
    next_sweep = time.perf_counter() + (sweep_every or 0)
    requeued = 0
    while True:
        session = SyncSession.objects.get(pk=session_pk)
        if session.status != SessionStatus.RUNNING:
            return session, requeued
        if time.perf_counter() > deadline:
            raise BenchError(f"the queued session did not finish within {limit:.0f} s (see the qcluster logs)")
        if sweep_every and time.perf_counter() >= next_sweep:
            requeued += sweep_collections()["requeued_records"]  # what the every-minute schedule does
            next_sweep = time.perf_counter() + sweep_every
        time.sleep(0.2)


def timed_queued(fleet, clusters: int, workers: int, logdir: Path, limit: float) -> tuple[float, dict]:
    from capacity.services.collect import start_queued_collection

    group = Clusters(clusters, workers, logdir)
    try:
        # Warm-up: every worker process imported and connected before the clock starts.
        warm = start_queued_collection(fleet[: clusters * workers])
        _wait_for_session(warm.pk, 120)
        started = time.perf_counter()
        session = start_queued_collection(fleet)
        session, _requeued = _wait_for_session(session.pk, limit)
        elapsed = time.perf_counter() - started
    finally:
        group.stop()
    return elapsed, _session_outcome(session)


def kill_demo(fleet, workers: int, logdir: Path, limit: float) -> list[str]:
    """Two clusters share a run; one is SIGKILLed a third of the way through."""
    from django.db.models import Count

    from capacity.services.collect import start_queued_collection
    from sync_sessions.choices import RecordStatus
    from sync_sessions.models import SyncInstanceRecord

    group = Clusters(2, workers, logdir)
    try:
        warm = start_queued_collection(fleet[: 2 * workers])
        _wait_for_session(warm.pk, 120)
        session = start_queued_collection(fleet)
        started = time.perf_counter()
        target = max(1, len(fleet) // 3)
        while session.records.filter(status=RecordStatus.COMPLETED).count() < target:
            if time.perf_counter() - started > limit:
                raise BenchError("the kill demo made no progress")
            time.sleep(0.1)
        at_kill = dict(session.records.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        group.kill(0)
        killed_at = time.perf_counter()
        session, requeued = _wait_for_session(session.pk, limit, sweep_every=2.0)
        settle_s = time.perf_counter() - killed_at
    finally:
        group.stop()
    outcome = _session_outcome(session)
    stopped = SyncInstanceRecord.objects.filter(session=session, status=RecordStatus.FAILED, error_kind="timeout")
    settled_once = outcome["open"] == 0 and outcome["records"] == len(fleet)
    return [
        f"  at the kill: {at_kill.get('completed', 0)} completed, {at_kill.get('running', 0)} running, "
        f"{at_kill.get('pending', 0)} pending (some of them prefetched by the killed cluster)",
        f"  after it: session {session.status} {settle_s:.1f} s later; {outcome['records']} records, "
        f"{outcome['open']} open, {outcome['completed']} completed, {stopped.count()} failed as stopped workers, "
        f"{requeued} tasks queued again by the sweeper",
        f"  every instance settled once: {'yes' if settled_once else 'NO'}",
    ]


def fleet_benchmark(args, prefix: str, cleanups: list, workdir: Path) -> str:
    maria, pg = MariaDBTarget(prefix), PostgresTarget(prefix)
    cleanups.append(("MariaDB databases and login", maria.cleanup))
    cleanups.append(("PostgreSQL databases and login", pg.cleanup))
    try:
        maria_login = maria.setup(databases=args.target_databases)
        pg_login = pg.setup(databases=args.target_databases)
    except Exception as exc:
        raise BenchError(f"could not create the throwaway target databases: {exc}") from exc

    half = args.instances // 2
    upstreams = [(maria.host, maria.port)] * half + [(pg.host, pg.port)] * (args.instances - half)
    proxy = ProxyProcess(upstreams, args.delay_ms)
    cleanups.append(("latency proxy", proxy.stop))
    fleet = build_fleet(args.instances, maria_login, pg_login, proxy.ports)

    # t1: one instance alone, on a sample of both engines (first rows of the day written first).
    sample = fleet[:4] + fleet[half : half + 4]
    timed_collect(sample, 8)
    t_sample, sample_outcome, sample_queries = timed_collect(sample, 1)
    if sample_outcome["failed"]:
        raise BenchError(f"the sample did not complete: {sample_outcome['first_failure']}")
    t1 = t_sample / len(sample)
    n = args.instances

    def row(label, concurrency, wall, outcome, queries=None):
        ideal = n * t1 / concurrency
        return [
            label,
            str(concurrency),
            f"{wall:.2f}",
            f"{n / wall:.1f}",
            f"{ideal / wall:.2f}",
            "-" if queries is None else f"{queries / n:.1f}",
            str(outcome["failed"]),
        ]

    rows = [
        [
            "in-process, alone (t1 sample)",
            "1",
            f"{t_sample:.2f}",
            f"{len(sample) / t_sample:.1f}",
            "1.00",
            f"{sample_queries / len(sample):.1f}",
            "0",
        ]
    ]
    notes = []
    for level in args.concurrency:
        wall, outcome, queries = timed_collect(fleet, level)
        rows.append(row("in-process collect()", level, wall, outcome, queries))
        if outcome["failed"]:
            notes.append(f"  concurrency {level}: {outcome['failed']} not completed, e.g. {outcome['first_failure']}")
    for count in args.clusters:
        wall, outcome = timed_queued(fleet, count, args.workers, workdir, args.cluster_limit)
        rows.append(row(f"{count} qcluster x {args.workers} workers", count * args.workers, wall, outcome))
        if outcome["failed"]:
            notes.append(f"  {count} cluster(s): {outcome['failed']} not completed, e.g. {outcome['first_failure']}")

    table = render_table(["how", "concurrency", "wall s", "instances/s", "of ideal", "queries/inst", "not done"], rows)
    lines = [
        "Part 1 - fleet collection through a latency proxy",
        f"  {n} instances ({half} MariaDB, {n - half} PostgreSQL), each behind its own proxy port adding "
        f"{args.delay_ms:g} ms per chunk each way; t1 = {t1 * 1000:.0f} ms per instance alone;",
        "  of ideal = (instances x t1 / concurrency) / wall s: 1.00 when the waits overlap perfectly;",
        "  queries/inst = platform-database statements per instance (in-process: counted in this process);",
        f"  clusters: Redis broker, one task per instance, Q_WORKERS={args.workers} worker processes per cluster",
        "",
        table,
        *notes,
    ]
    if not args.no_kill:
        lines += [
            "",
            f"SIGKILL of one of 2 clusters (x {args.workers} workers) a third of the way through a run of {n}:",
            *kill_demo(fleet, args.workers, workdir, args.cluster_limit),
        ]
    return "\n".join(lines)


# --- part 2: flat query count --------------------------------------------------------------


def synthetic_result(count: int, growth: int = 0, keep_every: int = 0):
    """`count` databases with made-up sizes; `keep_every=10` drops every tenth one."""
    from instances.engines import CollectResult, DatabaseSize

    databases = []
    for i in range(count):
        if keep_every and i % keep_every == keep_every - 1:
            continue
        data = (i + 1) * 1_048_576 + growth
        index = (i + 1) * 65_536
        databases.append(
            DatabaseSize(name=f"db_{i:05d}", size_bytes=data + index, data_size_bytes=data, index_size_bytes=index)
        )
    return CollectResult(databases=databases)


def count_queries(instance, result, at) -> tuple[int, float, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from capacity.services.collect import save_sizes

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        save_sizes(instance, result, collected_at=at)
        elapsed = time.perf_counter() - started
    return len(captured.captured_queries), elapsed, [q["sql"] for q in captured.captured_queries]


def save_benchmark(args) -> tuple[str, bool]:
    from django.utils import timezone

    from capacity.models import DatabaseSizeStat
    from capacity.services.collect import save_sizes
    from instances.choices import DbType
    from instances.models import Instance

    # Fixed times of day, so "the same day" never straddles midnight in TIME_ZONE.
    today = timezone.localdate()
    morning = timezone.make_aware(datetime.combine(today, dtime(9)))
    afternoon = timezone.make_aware(datetime.combine(today, dtime(15)))
    next_morning = morning + timedelta(days=1)

    rows, counts, problems, shown = [], [], [], []
    for size in args.sizes:
        instance = Instance.objects.create(name=f"save-{size}", db_type=DbType.MYSQL, host="127.0.0.1")
        first, first_s, sql1 = count_queries(instance, synthetic_result(size), morning)
        again, _t, sql2 = count_queries(instance, synthetic_result(size, growth=4096), afternoon)
        later, _t, sql3 = count_queries(instance, synthetic_result(size, growth=8192, keep_every=10), next_morning)
        if not shown:
            shown = [("first save", sql1), ("same day again", sql2), ("next day, 10% gone", sql3)]
        stored = DatabaseSizeStat.objects.filter(instance=instance).count()
        deleted = DatabaseSizeStat.objects.filter(instance=instance, is_deleted=True).count()
        if stored != 2 * size or deleted != size // 10:
            problems.append(f"{size} databases: {stored} rows stored (expected {2 * size}), {deleted} deleted")

        # The memory peak on a fresh instance of its own: tracemalloc slows the code it traces.
        fresh = Instance.objects.create(name=f"mem-{size}", db_type=DbType.MYSQL, host="127.0.0.1")
        result = synthetic_result(size)
        tracemalloc.start()
        save_sizes(fresh, result, collected_at=morning)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        counts.append((first, again, later))
        rows.append([str(size), str(first), str(again), str(later), f"{first_s * 1000:.1f}", f"{peak / 1024:,.0f}"])

    flat = len(set(counts)) == 1
    headers = ["databases", "1st save", "same day again", "next day, 10% gone", "1st save ms", "peak KiB"]
    lines = [
        "Part 2 - platform-database queries of one instance's save (save_sizes, synthetic result)",
        "  query counts include BEGIN/COMMIT; peak KiB = tracemalloc peak of a separate first save",
        "",
        render_table(headers, rows),
        "",
        f"  query count flat across sizes: {'yes' if flat else 'NO - it grows with the database count'}",
    ]
    lines += [f"  row check failed: {p}" for p in problems]
    if args.show_queries:
        for label, statements in shown:
            lines += ["", f"  {label}, {args.sizes[0]} databases:"]
            lines += [f"    {sql if len(sql) <= 110 else sql[:107] + '...'}" for sql in statements]
    return "\n".join(lines), flat and not problems


# --- main ----------------------------------------------------------------------------------


def environment_line() -> str:
    import django
    import MySQLdb
    import psycopg
    from targets import MYSQL_URL, POSTGRES_URL

    versions = []
    try:
        maria = MariaDBTarget("x", MYSQL_URL)
        conn = MySQLdb.connect(
            host=maria.host, port=maria.port, user=maria.admin_user, password=maria.admin_password, connect_timeout=5
        )
        versions.append(f"MariaDB/MySQL {conn.get_server_info().split('-')[0]}")
        conn.close()
        pg = PostgresTarget("x", POSTGRES_URL)
        with psycopg.connect(
            host=pg.host,
            port=pg.port,
            user=pg.admin_user,
            password=pg.admin_password or None,
            dbname=pg.admin_db,
            connect_timeout=5,
        ) as conn:
            versions.append(f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0].split()[0]}")
    except Exception as exc:
        raise BenchError(f"a local database server cannot be reached: {exc}") from exc
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, {', '.join(versions)}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start"
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Benchmark the capacity collection path (see bench/README.md).")
    parser.add_argument(
        "--instances", type=int, default=48, help="fleet size, half MariaDB (default 48; 1000 for the full run)"
    )
    parser.add_argument("--delay-ms", type=float, default=25.0, help="proxy latency per chunk, each way (default 25)")
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help="in-process concurrency to time (repeatable; default 8, 32 and 64)",
    )
    parser.add_argument(
        "--clusters", type=int, action="append", help="qcluster processes to time (repeatable; default 1 and 2)"
    )
    parser.add_argument("--workers", type=int, default=8, help="Q_WORKERS of each qcluster (default 8)")
    parser.add_argument("--no-kill", action="store_true", help="leave out the SIGKILL demonstration")
    parser.add_argument(
        "--cluster-limit", type=float, default=900, help="seconds a queued run may take before giving up (default 900)"
    )
    parser.add_argument("--platform", choices=["postgres", "sqlite"], default="postgres", help="platform database")
    parser.add_argument("--target-databases", type=int, default=3, help="throwaway databases per server (default 3)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10, 100, 1000], help="database counts for part 2 (default 10 100 1000)"
    )
    parser.add_argument("--skip-fleet", action="store_true", help="run part 2 only")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of the smallest size's saves")
    args = parser.parse_args(argv)
    args.concurrency = args.concurrency or [8, 32, 64]
    args.clusters = args.clusters or [1, 2]
    positive = [args.target_databases, args.workers, *args.concurrency, *args.clusters, *args.sizes]
    if args.instances < 16 or min(positive) < 1:
        parser.error("--instances must be at least 16; --workers, --concurrency, --clusters, --sizes positive")
    return args


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the clean-up below


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.perf_counter()
    prefix = f"capb_{secrets.token_hex(4)}"
    workdir = Path(tempfile.mkdtemp(prefix="capacity-bench-"))
    cleanups: list = []
    ok = True
    try:
        env = None if args.skip_fleet else environment_line()
        setup_django(platform_database(args, prefix, workdir, cleanups), f"{prefix}_q")
        from django.db import connection

        print("Capacity platform benchmark")
        if env:
            print(f"  {env}")
        print(f"  platform database: {connection.vendor} (temporary); broker: Redis")
        print()
        if not args.skip_fleet:
            print(fleet_benchmark(args, prefix, cleanups, workdir), flush=True)
            print()
        report, ok = save_benchmark(args)
        print(report)
        print()
        print(f"Total run time {time.perf_counter() - started:.1f} s")
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit) as exc:
        # Collector threads still running are daemons; silence their failures against the stopped proxy.
        logging.disable(logging.CRITICAL)
        print(f"\nbench: interrupted; removing its databases and logins ({prefix})", file=sys.stderr)
        if isinstance(exc, SystemExit):
            raise
        return 130
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        for what, cleanup in reversed(cleanups):
            try:
                cleanup()
            except Exception as exc:  # keep cleaning the rest
                print(f"bench: could not remove the {what} ({prefix}): {exc}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    if not ok:
        print("bench: the save's query count is not flat or its rows are wrong (see above)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
