"""The whole history's aggregates, computed in PostgreSQL: the full catch-up.

A full run (the first aggregation, with no watermark yet: over imported years, say) recomputes
every period. Reading 10 M daily rows into Python, or one windowed query per batch of instances,
takes many minutes; here the database does it, one quarter of history per statement:

- each statement reads the daily rows of one quarter plus the six days after it (the monthly
  partitions of that range only) and groups them by (keys, period) for every period type at once
  (GROUPING SETS): the quarter, its months, and the weeks that *start* in it (a week that starts
  in the quarter before belongs to that quarter's statement);
- the first and last sample of a period come from min/max of [day, size] arrays, so nothing sorts;
- it writes with INSERT … ON CONFLICT DO UPDATE, in its own transaction;
- two connections work through the quarters at once, so reading, hashing, index upkeep and the
  foreign-key checks at commit use both of a small server's cores.

An aggregate of a period that began before the retention cut-off is left as it is (its daily rows may
be partly cleaned up): the upsert updates only rows of later periods. (Checking for such aggregates
in the SELECT instead left the plan to the table's statistics: on a fresh, empty table the planner
chose to scan it once per group, which the other connection was filling meanwhile.)

Once every quarter is written, aggregates that were not rewritten by this run (their rows are gone)
are deleted. A run that stops halfway leaves some periods recomputed and others as they were: each
is whole and correct for the rows it saw, and the next full run, or the incremental one for new
rows, finishes the job.

Inside a transaction (tests, a caller's atomic block) other connections would not see its rows: the
quarters then run one after another on the caller's connection.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connections, router, transaction

from ..models import PeriodType
from .periods import add_months, period_bounds

# Connections working through the quarters at once. More than the platform database's cores only
# adds contention; two is what the smallest supported server has.
WORKERS = 2

_PG_LENGTH = {
    PeriodType.WEEK: "interval '7 days'",
    PeriodType.MONTH: "interval '1 month'",
    PeriodType.QUARTER: "interval '3 months'",
}


def _quarters(first: date, last: date) -> list[tuple[date, date]]:
    """(start, end) of every quarter holding a period that starts between `first` and `last`.

    The first row's week may have started up to six days earlier, in the quarter before.
    """
    start = period_bounds(PeriodType.QUARTER, first - timedelta(days=6))[0]
    quarters = []
    while start <= last:
        following = add_months(start, 3)
        quarters.append((start, following - timedelta(days=1)))
        start = following
    return quarters


class _Statement:
    """The INSERT … SELECT of one source for one quarter (the quarter's bounds are parameters)."""

    def __init__(self, source, period_types: list[str], connection, only_instances: bool):
        stat, aggregate_model = source.stat._meta, source.aggregate._meta
        qn = connection.ops.quote_name
        keys = [stat.get_field(k.removesuffix("_id")).column if k.endswith("_id") else k for k in source.keys]
        key_list = ", ".join(qn(k) for k in keys)
        size = qn(stat.get_field(source.size_field).column)
        extra_columns = list(source.extra_last)
        extra_source = [qn(stat.get_field(column).column) for column in source.extra_last.values()]
        pair = (
            f"ARRAY[(collected_date - DATE '2000-01-01')::bigint, {size}::bigint"
            + "".join(f", {column}::bigint" for column in extra_source)
            + "]"
        )
        only = " AND instance_id = ANY(%(instance_ids)s)" if only_instances else ""

        # A chunk (a database's days in one week and one month) counts towards a period only if the
        # period belongs to this quarter; otherwise its key is NULL and the group it forms is dropped.
        def start_of(kind: str) -> str:
            if kind == PeriodType.WEEK:
                return "CASE WHEN w >= %(lo)s AND w <= %(hi)s THEN w END AS p_week"
            if kind == PeriodType.MONTH:
                return "CASE WHEN m <= %(hi)s THEN m END AS p_month"
            return "CASE WHEN m <= %(hi)s THEN date_trunc('quarter', m::timestamp)::date END AS p_quarter"

        starts = ", ".join(start_of(p) for p in period_types)
        kind = "CASE " + " ".join(f"WHEN GROUPING(p_{p}) = 0 THEN '{p}'" for p in period_types) + " END"
        length = "CASE g.period_type " + " ".join(f"WHEN '{p}' THEN {_PG_LENGTH[p]}" for p in period_types) + " END"
        end = f"(g.period_start + {length})::date - 1"
        columns = [
            *keys,
            "period_type",
            "period_start",
            "period_end",
            "avg_size_bytes",
            "max_size_bytes",
            "min_size_bytes",
            "first_size_bytes",
            "last_size_bytes",
            "first_date",
            "last_date",
            "growth_bytes",
            "growth_rate",
            "sample_count",
            "is_complete",
            "computed_at",
            *extra_columns,
        ]
        unique = [*keys, "period_type", "period_start"]
        extra_values = "".join(f", g.last_pair[{3 + n}]" for n in range(len(extra_columns)))
        extra_read = "".join(f", {column}" for column in extra_source)
        period_starts = ", ".join(f"p_{p}" for p in period_types)
        table = qn(aggregate_model.db_table)
        self.sql = f"""
            WITH c AS (
                SELECT {key_list}, w, m, sum({size}) AS total, count(*) AS samples, max({size}) AS max_size,
                       min({size}) AS min_size, min({pair}) AS first_pair, max({pair}) AS last_pair
                  FROM (SELECT {key_list}, collected_date, {size}{extra_read},
                               date_trunc('week', collected_date::timestamp)::date AS w,
                               date_trunc('month', collected_date::timestamp)::date AS m
                          FROM {qn(stat.db_table)}
                         WHERE NOT is_deleted AND collected_date >= %(lo)s AND collected_date <= %(hi_week)s{only}) AS d
                 GROUP BY {key_list}, w, m
            ), g AS (
                SELECT {key_list}, {kind} AS period_type, COALESCE({period_starts}) AS period_start,
                       sum(total) AS total, sum(samples) AS samples, max(max_size) AS max_size,
                       min(min_size) AS min_size, min(first_pair) AS first_pair, max(last_pair) AS last_pair
                  FROM (SELECT c.*, {starts} FROM c) AS chunks
                 GROUP BY {key_list}, GROUPING SETS ({", ".join(f"(p_{p})" for p in period_types)})
            )
            INSERT INTO {table} ({", ".join(qn(c) for c in columns)})
            SELECT {", ".join(f"g.{qn(k)}" for k in keys)}, g.period_type, g.period_start, {end},
                   CASE WHEN 2 * mod(g.total, g.samples) = g.samples
                        THEN div(g.total, g.samples) + mod(div(g.total, g.samples), 2)
                        ELSE round(g.total / g.samples) END,
                   g.max_size, g.min_size, g.first_pair[2], g.last_pair[2],
                   DATE '2000-01-01' + g.first_pair[1]::integer, DATE '2000-01-01' + g.last_pair[1]::integer,
                   g.last_pair[2] - g.first_pair[2],
                   CASE WHEN g.first_pair[2] = 0 THEN NULL
                        ELSE round(((g.last_pair[2] - g.first_pair[2])::float8 * 100.0
                                    / g.first_pair[2]::float8)::numeric, 4)::float8 END,
                   g.samples, {end} < %(today)s, %(now)s{extra_values}
              FROM g
             WHERE g.period_start IS NOT NULL
            ON CONFLICT ({", ".join(qn(c) for c in unique)}) DO UPDATE SET
            {", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in columns if c not in unique)}
            WHERE {table}.period_start >= %(cutoff)s
        """
        only_delete = " AND instance_id = ANY(%(instance_ids)s)" if only_instances else ""
        self.delete_sql = (
            f"DELETE FROM {table} WHERE period_type = ANY(%(period_types)s) "
            f"AND computed_at <> %(now)s AND period_start >= %(cutoff)s{only_delete}"
        )


def _history_range(source, alias: str, instance_ids) -> tuple[date, date] | None:
    rows = source.stat.objects.using(alias).filter(is_deleted=False)
    if instance_ids is not None:
        rows = rows.filter(instance_id__in=instance_ids)
    first = rows.order_by("collected_date").values_list("collected_date", flat=True).first()
    if first is None:
        return None
    last = rows.order_by("-collected_date").values_list("collected_date", flat=True).first()
    return first, last


def _write_quarter(statement: _Statement, alias: str, params: dict, quarter: tuple[date, date]) -> int:
    lo, hi = quarter
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        # One quarter's groups for every period type fit in memory: hash, never sort on disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Compiling this large statement (JIT) costs more than it saves on a pass over plain rows.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(statement.sql, {**params, "lo": lo, "hi": hi, "hi_week": hi + timedelta(days=6)})
        return cursor.rowcount


def recompute_all(
    source, period_types: Iterable[str], instance_ids, now: datetime, today: date, cutoff: date
) -> tuple[int, int]:
    """Recompute every period of `source`'s history (of `instance_ids`, or all); (written, removed)."""
    alias = router.db_for_write(source.aggregate)
    connection = connections[alias]
    kinds = list(period_types)
    ids = None if instance_ids is None else list(instance_ids)
    statement = _Statement(source, kinds, connection, ids is not None)
    params: dict = {"today": today, "now": now, "cutoff": cutoff, "period_types": kinds}
    if ids is not None:
        params["instance_ids"] = ids
    span = _history_range(source, alias, ids)
    quarters = _quarters(*span) if span else []
    if ids is not None and quarters:
        # Some instances (one that was just collected for the first time): their history is small
        # enough for one statement over the whole span, the quarters of it in one window.
        quarters = [(quarters[0][0], quarters[-1][1])]
    written = 0
    if connection.in_atomic_block or len(quarters) < 2:
        for quarter in quarters:
            written += _write_quarter(statement, alias, params, quarter)
    else:
        written = _in_parallel(statement, alias, params, quarters)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        # What was not rewritten just now has no samples left in its period (older periods are kept).
        cursor.execute(statement.delete_sql, params)
        removed = cursor.rowcount
    return written, removed


def _in_parallel(statement: _Statement, alias: str, params: dict, quarters: list[tuple[date, date]]) -> int:
    """Write the quarters on WORKERS connections of their own; re-raises the first failure."""
    work: queue.Queue = queue.Queue()
    for quarter in quarters:
        work.put(quarter)
    counts: list[int] = []
    failures: list[BaseException] = []

    def worker():
        try:
            while not failures:
                try:
                    quarter = work.get_nowait()
                except queue.Empty:
                    return
                counts.append(_write_quarter(statement, alias, params, quarter))
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)
        finally:
            connections[alias].close()  # this thread's own connection

    threads = [threading.Thread(target=worker, name=f"aggregate-{n}") for n in range(min(WORKERS, len(quarters)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sum(counts)
