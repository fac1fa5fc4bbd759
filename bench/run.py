"""Benchmark of the collection path: fleet speed-up from concurrency, and a save's query count.

    bash bench/run.sh            # or: .venv/bin/python bench/run.py [--help]

Part 1 registers a fleet of MariaDB and PostgreSQL instances, each behind its own port of a
latency-adding TCP proxy (bench/latency_proxy.py), and times `collect()` over the whole fleet
at concurrency 1 and at the configured default (CAPACITY_CONCURRENCY).

Part 2 counts the platform-database queries of one instance's `save_sizes()` with a synthetic
result of 10, 100 and 1000 databases: the first save, a second save the same day and a save
the next day with a tenth of the databases gone. It also times the first save and measures its
Python memory peak (tracemalloc) on a separate run, so the tracing does not skew the timing.

The platform database is a temporary SQLite file (migrated here); targets are throwaway
databases and logins with a random prefix on the local servers. All of it is removed at the
end, on failure and on Ctrl-C/SIGTERM too. The run prints; it asserts nothing about timing.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import secrets
import shutil
import signal
import statistics
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


def setup_django(db_path: Path) -> None:
    """Point the project's settings at a fresh SQLite file and migrate it.

    Environment variables win over `.env` (the settings read it without overwriting), so the
    run never touches the real platform database; the keys are throwaway ones.
    """
    from cryptography.fernet import Fernet

    os.environ["DJANGO_SETTINGS_MODULE"] = "capacity_site.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["CREDENTIAL_KEYS"] = Fernet.generate_key().decode()
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


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
    return fleet


def timed_collect(fleet, concurrency: int):
    from capacity.services.collect import collect
    from sync_sessions.choices import RecordStatus

    started = time.perf_counter()
    session = collect(fleet, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    records = list(session.records.order_by("instance_name"))
    failed = [r for r in records if r.status != RecordStatus.COMPLETED]
    if failed:
        details = "; ".join(f"{r.instance_name}: {r.error_kind} - {r.error[:100]}" for r in failed[:3])
        raise BenchError(
            f"{len(failed)} of {len(records)} instances did not complete at concurrency {concurrency}: {details}"
        )
    return elapsed, records


def fleet_benchmark(args, prefix: str, cleanups: list) -> str:
    from django.conf import settings

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

    default = settings.CAPACITY_CONCURRENCY
    levels = sorted({1, *(args.concurrency or [default])})  # 1 is the baseline of the speed-up
    timed_collect(fleet, default)  # warm-up: imports, first connections, first rows of the day

    # Rounds alternate the levels, so a slow spell on the machine hits them alike; median per level.
    times: dict[int, list[float]] = {level: [] for level in levels}
    for _round in range(args.repeat):
        for level in levels:
            elapsed, records = timed_collect(fleet, level)
            times[level].append(elapsed)
    serial = statistics.median(times[1])
    rows = []
    for level in levels:
        wall = statistics.median(times[level])
        ideal = args.instances / math.ceil(args.instances / level)
        rows.append(
            [
                f"{level}{' (default)' if level == default else ''}",
                f"{wall:.2f}",
                f"{args.instances / wall:.1f}",
                f"{serial / wall:.2f}x",
                f"{ideal:.2f}x",
            ]
        )
    maria_dbs = next(r.databases_count for r in records if r.instance_name.startswith("bench-mariadb"))
    pg_dbs = next(r.databases_count for r in records if r.instance_name.startswith("bench-postgresql"))

    table = render_table(["concurrency", "wall s", "instances/s", "speed-up", "ideal"], rows)
    return "\n".join(
        [
            "Part 1 - fleet collection through a latency proxy",
            f"  {args.instances} instances ({half} MariaDB, {args.instances - half} PostgreSQL), each behind its own "
            f"proxy port adding {args.delay_ms:g} ms per chunk each way",
            f"  (a MariaDB instance reports {maria_dbs} databases, a PostgreSQL one {pg_dbs}: all on that server);",
            f"  wall s = median of {args.repeat} run(s) of collect(); speed-up against concurrency 1;",
            "  ideal = instances / ceil(instances / concurrency), i.e. the waits overlapping perfectly",
            "",
            table,
        ]
    )


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
        f"{os.cpu_count()} CPUs; platform DB: temporary SQLite"
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Benchmark the capacity collection path (see bench/README.md).")
    parser.add_argument("--instances", type=int, default=24, help="fleet size, half MariaDB (default 24)")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="proxy latency per chunk, each way (default 25)")
    parser.add_argument(
        "--concurrency", type=int, action="append", help="concurrency to time (repeatable; default 1 and the setting)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per concurrency, median kept (default 3)")
    parser.add_argument("--target-databases", type=int, default=3, help="throwaway databases per server (default 3)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10, 100, 1000], help="database counts for part 2 (default 10 100 1000)"
    )
    parser.add_argument("--skip-fleet", action="store_true", help="run part 2 only (no database servers needed)")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of the smallest size's saves")
    args = parser.parse_args(argv)
    positive = [args.repeat, args.target_databases, *(args.concurrency or []), *args.sizes]
    if args.instances < 2 or min(positive) < 1:
        parser.error("--instances must be at least 2; --repeat, --target-databases, --concurrency, --sizes positive")
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
        setup_django(workdir / "platform.sqlite3")
        from django.conf import settings

        print("Capacity platform benchmark")
        if env:
            print(f"  {env}")
        print(f"  CAPACITY_CONCURRENCY={settings.CAPACITY_CONCURRENCY}")
        print()
        if not args.skip_fleet:
            print(fleet_benchmark(args, prefix, cleanups), flush=True)
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
