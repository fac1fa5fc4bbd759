"""Saving one instance's table sizes: per database the day's largest tables, the fastest-growing ones
and one "other tables" row holding the rest.

What is kept per database and day (CAPACITY_TABLES_TOP_N = N):

- the N largest tables by total size;
- up to N more tables that grew most since that database's previous stored collection, so a small
  table growing fast is not hidden. A table not kept that day (in the "other" row, or new) counts
  its growth from the most it could have had then: the smaller of the "other" row's total and the
  N-th largest table of that day. That never overstates growth, so a table that merely sat in the
  "other" row does not come back as a grower;
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


@dataclass
class Previous:
    """One database's stored tables at its previous collection."""

    totals: dict[tuple[str, str], int]
    #: The most any table not kept that day can have had.
    hidden_bound: int


def select_tables(
    tables: list[TableSize], previous: Previous | None, n: int
) -> tuple[list[tuple[TableSize, bool]], list[TableSize]]:
    """Split one database's tables into the kept ones and the rest.

    Returns ([(table, kept_for_growth)], rest). `previous` is the database's previous stored
    collection; None when there was none (then nothing is kept for its growth).
    """
    ordered = sorted(tables, key=lambda t: (-t.total_size_bytes, t.schema_name, t.table_name))
    kept = [(t, False) for t in ordered[:n]]
    rest = ordered[n:]
    if previous is not None and rest:

        def growth(t: TableSize) -> int:
            before = previous.totals.get((t.schema_name, t.table_name), previous.hidden_bound)
            return t.total_size_bytes - before

        growers = sorted((t for t in rest if growth(t) > 0), key=lambda t: (-growth(t), t.schema_name, t.table_name))
        chosen = {(t.schema_name, t.table_name) for t in growers[:n]}
        kept += [(t, True) for t in growers[:n]]
        rest = [t for t in rest if (t.schema_name, t.table_name) not in chosen]
    return kept, rest


def _previous(instance, database_names: list[str], today, n: int) -> dict[str, Previous]:
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
    totals: dict[str, dict[tuple[str, str], int]] = {}
    other: dict[str, int] = {}
    for database, schema, table, is_other, total in rows:
        known = totals.setdefault(database, {})
        if is_other:
            other[database] = total
        else:
            known[(schema, table)] = total
    previous = {}
    for database, known in totals.items():
        largest = sorted(known.values(), reverse=True)
        bound = other.get(database, 0)
        if len(largest) >= n:
            bound = min(bound, largest[n - 1])
        previous[database] = Previous(known, bound)
    return previous


def save_tables(instance, result: CollectResult, collected_date, collected_at) -> TablesOutcome:
    """Replace the day's table rows of every database in `result.tables` (call inside the save's
    transaction). Databases whose tables were not read this time keep what the day already has."""
    if not result.tables:
        return TablesOutcome()
    n = top_n()
    names = sorted(result.tables)
    previous = _previous(instance, names, collected_date, n)
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
