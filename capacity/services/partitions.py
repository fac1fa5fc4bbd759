"""Monthly partitions of the size history tables on PostgreSQL.

Migration 0003 makes capacity_databasesizestat, and 0008 capacity_tablesizestat,
`PARTITION BY RANGE (collected_date)` with one partition per month plus a DEFAULT partition, so
an insert never fails even for a month that has no partition yet. The daily job creates the
coming months ahead of time; retention drops the months that lie wholly before the cut-off. Every
function works on the database size history unless given `table`. On SQLite and MySQL nothing
here applies and every function says so by doing nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import DatabaseSizeStat, TableSizeStat
from .periods import add_months

#: The database size history: the table every function works on unless told another.
TABLE = DatabaseSizeStat._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
#: The table size history, partitioned the same way.
TABLE_SIZES = TableSizeStat._meta.db_table
#: Every partitioned history table and its model.
PARTITIONED = {TABLE: DatabaseSizeStat, TABLE_SIZES: TableSizeStat}
_BOUND = re.compile(r"FROM \((?P<start>[^)]*)\) TO \((?P<end>[^)]*)\)")


@dataclass(frozen=True)
class Partition:
    name: str
    start: date | None  # None: unbounded below, or the DEFAULT partition
    end: date | None  # exclusive; None: unbounded above, or the DEFAULT partition
    is_default: bool = False
    estimated_rows: int = 0

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "is_default": self.is_default,
            "estimated_rows": self.estimated_rows,
        }


def partition_name(month: date, table: str = TABLE) -> str:
    return f"{table}_p{month:%Y_%m}"


def default_partition(table: str = TABLE) -> str:
    return f"{table}_default"


def months_ahead() -> int:
    return max(0, int(getattr(settings, "CAPACITY_PARTITION_MONTHS_AHEAD", 3)))


def uses_partitions(using: str = DEFAULT_DB_ALIAS, table: str = TABLE) -> bool:
    """True when the history table `table` is partitioned (PostgreSQL after migrate)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def _parse_bound(text: str) -> date | None:
    value = text.strip().strip("'")
    if value.upper() in ("MINVALUE", "MAXVALUE"):
        return None
    return date.fromisoformat(value)


def list_partitions(using: str = DEFAULT_DB_ALIAS, table: str = TABLE) -> list[Partition]:
    """The partitions of the history table, oldest first, the DEFAULT partition last."""
    if not uses_partitions(using, table):
        return []
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = to_regclass(%s)
            """,
            [table],
        )
        rows = cursor.fetchall()
    partitions = []
    for name, bound, estimate in rows:
        if bound.strip().upper() == "DEFAULT":
            partitions.append(Partition(name, None, None, is_default=True, estimated_rows=estimate))
            continue
        match = _BOUND.search(bound)
        if not match:
            continue
        partitions.append(
            Partition(name, _parse_bound(match["start"]), _parse_bound(match["end"]), estimated_rows=estimate)
        )
    partitions.sort(key=lambda p: (p.is_default, p.start or date.min))
    return partitions


def _covered(partitions: list[Partition], start: date, end: date) -> bool:
    """Whether some ranged partition already overlaps [start, end)."""
    for p in partitions:
        if p.is_default:
            continue
        lower = p.start or date.min
        upper = p.end or date.max
        if lower < end and start < upper:
            return True
    return False


def _settle_deferred_checks(cursor) -> None:
    """Run the deferred foreign-key checks of rows written earlier in this transaction now.

    PostgreSQL refuses to drop or alter a table with such checks pending; a job in its own
    transaction has none, but a caller that wrote rows first in the same transaction would.
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _columns(quote, table: str) -> str:
    return ", ".join(quote(f.column) for f in PARTITIONED[table]._meta.concrete_fields)


def _create_month(cursor, quote, month: date, has_default: bool, table: str = TABLE) -> None:
    """Create the partition of one month, first moving any rows of it out of the DEFAULT partition."""
    name, upper = partition_name(month, table), add_months(month, 1)
    bounds = f"FOR VALUES FROM ('{month.isoformat()}') TO ('{upper.isoformat()}')"
    stranded = False
    if has_default:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {quote(default_partition(table))} "
            "WHERE collected_date >= %s AND collected_date < %s)",
            [month, upper],
        )
        stranded = cursor.fetchone()[0]
    if not stranded:
        cursor.execute(f"CREATE TABLE {quote(name)} PARTITION OF {quote(table)} {bounds}")
        return
    # PostgreSQL refuses a new partition while the DEFAULT one holds rows of its range.
    columns = _columns(quote, table)
    cursor.execute(f"CREATE TABLE {quote(name)} (LIKE {quote(table)} INCLUDING DEFAULTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {quote(default_partition(table))} "
        f"WHERE collected_date >= %s AND collected_date < %s RETURNING {columns}) "
        f"INSERT INTO {quote(name)} ({columns}) SELECT {columns} FROM moved",
        [month, upper],
    )
    cursor.execute(f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} {bounds}")


def ensure_partitions(
    first_month: date, last_month: date, using: str = DEFAULT_DB_ALIAS, table: str = TABLE
) -> list[str]:
    """Create the monthly partitions from `first_month` to `last_month` that do not exist yet."""
    if not uses_partitions(using, table):
        return []
    connection = connections[using]
    quote = connection.ops.quote_name
    created = []
    with transaction.atomic(using=using):
        existing = list_partitions(using, table)
        has_default = any(p.is_default for p in existing)
        with connection.cursor() as cursor:
            _settle_deferred_checks(cursor)
            if not has_default:
                default = default_partition(table)
                cursor.execute(f"CREATE TABLE {quote(default)} PARTITION OF {quote(table)} DEFAULT")
                created.append(default)
                has_default = True
            month = first_month.replace(day=1)
            while month <= last_month:
                upper = add_months(month, 1)
                if not _covered(existing, month, upper):
                    _create_month(cursor, quote, month, has_default, table)
                    created.append(partition_name(month, table))
                month = upper
    return created


def ensure_future_partitions(ahead: int | None = None, using: str = DEFAULT_DB_ALIAS, table: str = TABLE) -> list[str]:
    """This month's partition and the next `ahead` months' (CAPACITY_PARTITION_MONTHS_AHEAD)."""
    this_month = timezone.localdate().replace(day=1)
    last = add_months(this_month, months_ahead() if ahead is None else ahead)
    return ensure_partitions(this_month, last, using, table)


def drop_partitions_before(cutoff: date, using: str = DEFAULT_DB_ALIAS, table: str = TABLE) -> list[dict]:
    """Drop every monthly partition whose rows all lie before `cutoff`; returns what went, with row counts."""
    if not uses_partitions(using, table):
        return []
    connection = connections[using]
    quote = connection.ops.quote_name
    dropped = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _settle_deferred_checks(cursor)
        expired = [
            p for p in list_partitions(using, table) if not p.is_default and p.end is not None and p.end <= cutoff
        ]
        # Counted before the first DROP, which locks the whole table until the commit.
        for p in expired:
            cursor.execute(f"SELECT count(*) FROM {quote(p.name)}")
            dropped.append(
                {"name": p.name, "start": p.start.isoformat() if p.start else None, "rows": cursor.fetchone()[0]}
            )
        for p in expired:
            cursor.execute(f"DROP TABLE {quote(p.name)}")
    return dropped


def partition_state(using: str = DEFAULT_DB_ALIAS) -> dict:
    """What the status endpoint shows about partitioning."""
    connection = connections[using]
    if not uses_partitions(using):
        return {
            "enabled": False,
            "vendor": connection.vendor,
            "detail": _("Partitioning is not used on %(vendor)s: retention deletes old rows in batches.")
            % {"vendor": connection.display_name},
            "partitions": [],
            "table_size_partitions": [],
            "next_to_create": None,
            "months_ahead": months_ahead(),
        }
    partitions = list_partitions(using)
    today = timezone.localdate()
    month = today.replace(day=1)
    next_to_create = None
    for _step in range(1200):  # a century of months
        if not _covered(partitions, month, add_months(month, 1)):
            # The nightly job creates a month once it is CAPACITY_PARTITION_MONTHS_AHEAD away.
            due = max(today, add_months(month, -months_ahead()))
            next_to_create = {"name": partition_name(month), "start": month.isoformat(), "due": due.isoformat()}
            break
        month = add_months(month, 1)
    return {
        "enabled": True,
        "vendor": connection.vendor,
        "detail": _("The size history is partitioned by month; retention drops whole months."),
        "partitions": [p.as_dict() for p in partitions],
        "table_size_partitions": [p.as_dict() for p in list_partitions(using, TABLE_SIZES)],
        "next_to_create": next_to_create,
        "months_ahead": months_ahead(),
    }
