"""Shared test tools for the engine adapters: SQL checks against catalogs, a catalog replayed in
SQLite, a fake DB-API connection, and loopback servers that refuse or never answer."""

from __future__ import annotations

import re
import sqlite3

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

# --- SQL against a catalog ---------------------------------------------------------------------


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _is_cte_reference(table: exp.Table, ctes: set[str]) -> bool:
    return not table.args.get("db") and table.name.lower() in ctes


def check_sql(sql: str, dialect: str, catalog: dict, default_catalog: str | None = None) -> exp.Expression:
    """Parse strictly, insist every table is a catalog view, qualify every column against it.

    qualify(validate_qualify_columns=True) raises for a column its table does not have; the
    table check comes first because qualify cannot judge columns of a table it does not know.
    """
    tree = sqlglot.parse_one(sql, read=dialect, error_level=ErrorLevel.RAISE)
    schema = MappingSchema(catalog, dialect=dialect)
    qualified = qualify(tree, dialect=dialect, schema=schema, catalog=default_catalog, validate_qualify_columns=True)
    ctes = _cte_names(qualified)
    for table in qualified.find_all(exp.Table):
        if _is_cte_reference(table, ctes):
            continue
        assert schema.find(table, raise_on_missing=False), f"{table.sql(dialect)} is not in the catalog"
    return qualified


def _flat(parts) -> str:
    return "__".join(re.sub(r"\W", "_", str(p).lower()) for p in parts if p)


def _leaves(catalog: dict, path=()):
    for key, value in catalog.items():
        if value and all(isinstance(v, str) for v in value.values()):
            yield (*path, key), value
        else:
            yield from _leaves(value, (*path, key))


class CatalogDatabase:
    """Recorded catalog rows in an in-memory SQLite, to run the adapters' own statements on.

    Each statement is qualified against the catalog, its views renamed to flat SQLite tables,
    and transpiled; so joins, filters and sums are executed as written, not re-implemented.
    """

    def __init__(self, dialect: str, catalog: dict, rows: dict, default_catalog: str | None = None):
        self.dialect, self.catalog, self.default_catalog = dialect, catalog, default_catalog
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        tables = dict(_leaves(catalog))
        for path, columns in tables.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            self.db.execute(f'CREATE TABLE "{_flat(path)}" ({cols})')
        for path, records in rows.items():
            path = (path,) if isinstance(path, str) else tuple(path)
            columns = tables[path]
            for record in records:
                unknown = set(record) - set(columns)
                assert not unknown, f"{path} has no columns {sorted(unknown)}"
                names = ", ".join(f'"{c}"' for c in record)
                marks = ", ".join("?" for _ in record)
                self.db.execute(f'INSERT INTO "{_flat(path)}" ({names}) VALUES ({marks})', list(record.values()))

    def to_sqlite(self, sql: str) -> str:
        tree = check_sql(sql, self.dialect, self.catalog, self.default_catalog)
        ctes = _cte_names(tree)
        for table in list(tree.find_all(exp.Table)):
            if _is_cte_reference(table, ctes):
                continue
            flat = _flat((table.catalog, table.db, table.name))
            table.set("this", exp.to_identifier(flat, quoted=True))
            table.set("db", None)
            table.set("catalog", None)
        return tree.sql(dialect="sqlite")

    def run(self, sql: str) -> list[tuple]:
        return self.db.execute(self.to_sqlite(sql)).fetchall()


# --- a DB-API connection double ----------------------------------------------------------------


class FakeCursor:
    def __init__(self, conn: FakeConnection):
        self.conn = conn
        self.rows: list = []
        conn.cursors_open += 1

    def execute(self, sql, *args):
        self.conn.executed.append(sql)
        if sql in self.conn.responses:
            outcome = self.conn.responses[sql]
            if isinstance(outcome, BaseException):
                raise outcome
            self.rows = list(outcome)
        elif self.conn.catalog is not None:
            self.rows = self.conn.catalog.run(sql)
        else:
            raise AssertionError(f"statement with no recorded answer: {sql}")
        return self

    def fetchall(self):
        return list(self.rows)

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def close(self):
        self.conn.cursors_open -= 1


class FakeConnection:
    """Answers statements from `responses` (rows or an exception to raise), else from a catalog."""

    def __init__(self, responses: dict | None = None, catalog: CatalogDatabase | None = None):
        self.responses = dict(responses or {})
        self.catalog = catalog
        self.executed: list[str] = []
        self.cursors_open = 0
        self.closed = False

    def cursor(self):
        return FakeCursor(self)

    def close(self):
        self.closed = True
