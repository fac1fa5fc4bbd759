"""What table-level collection costs: the engine's table read and the save, at 10, 100 and 1,000 tables.

    .venv/bin/python bench/tables.py [--tables 10 100 1000] [--repeat 3]

For each size it creates one database with that many small tables on the live MariaDB and on the
live PostgreSQL (a throwaway prefix, dropped at the end) and measures, per database:

- read: the engine's wall time with tables against without (MariaDB: the same statement, tables
  come with the size read; PostgreSQL: the per-database table query on its own connection);
- save: `save_sizes` with those tables against without, on a temporary SQLite platform database
  (migrated by the run), and the queries the save sends.

Prints a Markdown table (the median of --repeat runs). It asserts nothing about timing; it exits 1
only when it cannot measure (a server is unreachable).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _setup_django(tmp: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "capacity_site.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/platform.sqlite3"
    os.environ["DEBUG"] = "1"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _median(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _mysql_case(box, n: int, repeat: int):
    from instances.engines import ConnectionParams
    from instances.engines.mysql import MySQLEngine

    db = box.name(f"t{n}")
    box.databases.append(db)
    stmts = [f"CREATE DATABASE `{db}`"]
    for i in range(n):
        stmts.append(f"CREATE TABLE `{db}`.t{i} (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB")
        stmts.append(f"INSERT INTO `{db}`.t{i} VALUES ({i}, 'row')")
    box.execute(*stmts)
    user, password = box.create_login()
    params = ConnectionParams("127.0.0.1", box.port, user, password)
    with MySQLEngine(params) as engine:
        engine.list_database_sizes(tables=True)  # warm the server's statistics
        plain = _median(lambda: engine.list_database_sizes(), repeat)
        holder = {}
        with_tables = _median(lambda: holder.update(r=engine.list_database_sizes(tables=True)), repeat)
    result = holder["r"]
    assert len(result.tables.get(db, [])) == n, f"expected {n} tables in {db}, got {len(result.tables.get(db, []))}"
    box.drop_database(db)
    return plain, with_tables, result


def _pg_case(box, n: int, repeat: int):
    from instances.engines import CollectResult, ConnectionParams
    from instances.engines.postgresql import PostgreSQLEngine

    db = box.name(f"t{n}")
    box.databases.append(db)
    box.execute(f'CREATE DATABASE "{db}"')
    box.execute(
        *[f"CREATE TABLE t{i} (id int PRIMARY KEY, v text); INSERT INTO t{i} VALUES ({i}, 'row')" for i in range(n)],
        dbname=db,
    )
    params = ConnectionParams("127.0.0.1", box.port, box.admin_user, box.admin_password)
    with PostgreSQLEngine(params) as engine:
        sizes = engine.list_database_sizes()
        ours = [d for d in sizes.databases if d.name == db]
        plain = _median(lambda: engine.list_database_sizes(), repeat)

        def read():
            result = CollectResult(databases=ours)
            engine._list_table_sizes(result, None)
            return result

        holder = {}
        tables_only = _median(lambda: holder.update(r=read()), repeat)
    result = holder["r"]
    assert len(result.tables.get(db, [])) == n, f"expected {n} tables in {db}, got {len(result.tables.get(db, []))}"
    box.drop_database(db)
    return plain, plain + tables_only, result


def _save_cost(engine_name: str, n: int, result, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from capacity.services.collect import save_sizes
    from instances.engines import CollectResult
    from instances.models import Instance

    instance = Instance.objects.create(
        name=f"bench-{engine_name}-{n}-{secrets.token_hex(3)}", db_type="mysql", host="x"
    )
    plain = CollectResult(databases=result.databases)
    day = iter(range(1, 1000))

    def save(what):
        # A new day each time: the save compares with the day before, as the nightly run does.
        save_sizes(instance, what, datetime(2026, 1, 1, 3, tzinfo=UTC) + timedelta(days=next(day)))

    without = _median(lambda: save(plain), repeat)
    with_tables = _median(lambda: save(result), repeat)
    with CaptureQueriesContext(connection) as ctx:
        save(result)
    with CaptureQueriesContext(connection) as plain_ctx:
        save(plain)
    return without, with_tables, len(ctx), len(plain_ctx)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="capb_tables_") as tmp:
        _setup_django(tmp)
        from tests import servers

        try:
            boxes = {"MariaDB": servers.mysql_sandbox(), "PostgreSQL": servers.postgres_sandbox()}
        except BaseException as exc:  # servers._unreachable fails the way pytest does
            print(f"cannot reach the servers: {exc}", file=sys.stderr)
            return 1
        rows = []
        try:
            for name, box in boxes.items():
                for n in args.tables:
                    case = _mysql_case if name == "MariaDB" else _pg_case
                    read_plain, read_tables, result = case(box, n, args.repeat)
                    save_plain, save_tables, queries, plain_queries = _save_cost(name, n, result, args.repeat)
                    rows.append((name, n, read_plain, read_tables, save_plain, save_tables, plain_queries, queries))
        finally:
            for box in boxes.values():
                box.cleanup()
    print("| engine | tables | read without tables | read with tables | save without | save with | save queries |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, rp, rt, sp, st, qp, qt in rows:
        print(
            f"| {name} | {n:,} | {rp * 1000:.1f} ms | {rt * 1000:.1f} ms | {sp * 1000:.1f} ms | {st * 1000:.1f} ms "
            f"| {qp} → {qt} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
