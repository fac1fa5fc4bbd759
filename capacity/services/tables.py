"""Saving one instance's table sizes: per database the day's largest tables, the fastest-growing ones
and one "other tables" row holding the rest.

What is kept per database and day (CAPACITY_TABLES_TOP_N = N):

- the N largest tables by total size;
- up to N more tables that grew most since that database's previous stored collection (a table
  new since then counts with its whole size), so a small table growing fast is not hidden;
- one row `is_other` (empty schema and table names, `table_count` tables) with the sums of every
  other table, so the rows of the day add up to the sum of all the tables the engine reported.

A second save on the same day replaces that day's rows of the databases it read (tables that fell
out of the set go with them). The save is a constant number of queries whatever the number of
tables: one read of the previous collection, one delete, one bulk insert.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Subquery

from instances.engines import CollectResult, TableSize

from ..models import TableSizeStat

__all__ = ["TablesOutcome", "save_tables", "select_tables", "top_n"]


@dataclass(frozen=True)
class TablesOutcome:
    databases_count: int = 0
    rows_saved: int = 0
    tables_count: int = 0


def top_n() -> int:
    return max(1, int(getattr(settings, "CAPACITY_TABLES_TOP_N", 20)))


def select_tables(
    tables: list[TableSize], previous: dict[tuple[str, str], int] | None, n: int
) -> tuple[list[tuple[TableSize, bool]], list[TableSize]]:
    """Split one database's tables into the kept ones and the rest.

    Returns ([(table, kept_for_growth)], rest). `previous` maps (schema, table) to its total at
    the database's previous stored collection; None when there was none (then nothing is kept
    for its growth: every table would look new).
    """
    ordered = sorted(tables, key=lambda t: (-t.total_size_bytes, t.schema_name, t.table_name))
    kept = [(t, False) for t in ordered[:n]]
    rest = ordered[n:]
    if previous is not None and rest:

        def growth(t: TableSize) -> int:
            return t.total_size_bytes - previous.get((t.schema_name, t.table_name), 0)

        growers = sorted((t for t in rest if growth(t) > 0), key=lambda t: (-growth(t), t.schema_name, t.table_name))
        chosen = {(t.schema_name, t.table_name) for t in growers[:n]}
        kept += [(t, True) for t in growers[:n]]
        rest = [t for t in rest if (t.schema_name, t.table_name) not in chosen]
    return kept, rest


def _previous_totals(instance, database_names: list[str], today) -> dict[str, dict[tuple[str, str], int]]:
    """Each database's tables at its latest stored collection before `today`, in one query."""
    previous_date = (
        TableSizeStat.objects.filter(
            instance=instance, database_name=OuterRef("database_name"), collected_date__lt=today
        )
        .order_by("-collected_date")
        .values("collected_date")[:1]
    )
    rows = TableSizeStat.objects.filter(
        instance=instance, database_name__in=database_names, collected_date=Subquery(previous_date)
    ).values_list("database_name", "schema_name", "table_name", "is_other", "total_size_bytes")
    previous: dict[str, dict[tuple[str, str], int]] = {}
    for database, schema, table, is_other, total in rows:
        known = previous.setdefault(database, {})
        if not is_other:
            known[(schema, table)] = total
    return previous


def save_tables(instance, result: CollectResult, collected_date, collected_at) -> TablesOutcome:
    """Replace the day's table rows of every database in `result.tables` (call inside the save's
    transaction). Databases whose tables were not read this time keep what the day already has."""
    if not result.tables:
        return TablesOutcome()
    n = top_n()
    names = sorted(result.tables)
    previous = _previous_totals(instance, names, collected_date)
    rows: list[TableSizeStat] = []
    count = 0
    for name in names:
        tables = result.tables[name]
        count += len(tables)
        kept, rest = select_tables(tables, previous.get(name), n)
        for table, _grown in kept:
            rows.append(
                TableSizeStat(
                    instance=instance,
                    database_name=name,
                    schema_name=table.schema_name,
                    table_name=table.table_name,
                    is_other=False,
                    rows_estimate=table.rows_estimate,
                    data_size_bytes=table.data_size_bytes,
                    index_size_bytes=table.index_size_bytes,
                    lob_size_bytes=table.lob_size_bytes,
                    total_size_bytes=table.total_size_bytes,
                    table_count=1,
                    collected_date=collected_date,
                    collected_at=collected_at,
                )
            )
        estimates = [t.rows_estimate for t in rest if t.rows_estimate is not None]
        lobs = [t.lob_size_bytes for t in rest if t.lob_size_bytes is not None]
        rows.append(
            TableSizeStat(
                instance=instance,
                database_name=name,
                schema_name="",
                table_name="",
                is_other=True,
                rows_estimate=sum(estimates) if estimates else None,
                data_size_bytes=sum(t.data_size_bytes for t in rest),
                index_size_bytes=sum(t.index_size_bytes for t in rest),
                lob_size_bytes=sum(lobs) if lobs else None,
                total_size_bytes=sum(t.total_size_bytes for t in rest),
                table_count=len(rest),
                collected_date=collected_date,
                collected_at=collected_at,
            )
        )
    TableSizeStat.objects.filter(instance=instance, collected_date=collected_date, database_name__in=names).delete()
    TableSizeStat.objects.bulk_create(rows)
    return TablesOutcome(databases_count=len(names), rows_saved=len(rows), tables_count=count)
