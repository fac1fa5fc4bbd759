"""Throwaway databases and logins on the real local MariaDB and PostgreSQL servers.

Every sandbox uses a fresh random prefix and drops what it made, so tests never depend on
what an earlier run left behind. A server that cannot be reached fails the test (never skips).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlparse

import MySQLdb
import psycopg
import pytest

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _unreachable(server: str, exc: Exception):
    pytest.fail(
        f"{server} is required for this test and could not be reached ({exc}). "
        "Start it (see scripts/services.sh) or point TEST_MYSQL_URL / TEST_POSTGRES_URL at one.",
        pytrace=False,
    )


@dataclass
class MySQLSandbox:
    host: str
    port: int
    admin_user: str
    admin_password: str
    prefix: str = field(default_factory=lambda: f"capt_{secrets.token_hex(4)}")
    databases: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    def admin(self):
        return MySQLdb.connect(
            host=self.host,
            port=self.port,
            user=self.admin_user,
            password=self.admin_password,
            autocommit=True,
            connect_timeout=5,
        )

    def execute(self, *statements):
        conn = self.admin()
        try:
            cur = conn.cursor()
            for sql in statements:
                cur.execute(sql)
            rows = cur.fetchall()
            cur.close()
            return rows
        finally:
            conn.close()

    def name(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"

    def create_database(self, suffix: str, tables: int = 1, rows: int = 100) -> str:
        """A database with `tables` InnoDB tables of `rows` rows each (with an index)."""
        db = self.name(suffix)
        self.databases.append(db)
        stmts = [f"SET SESSION max_recursive_iterations = {max(1000, rows + 1)}", f"CREATE DATABASE `{db}`"]
        for t in range(tables):
            stmts.append(
                f"CREATE TABLE `{db}`.t{t} (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200), KEY kv (v))"
                " ENGINE=InnoDB"
            )
            if rows:
                stmts.append(
                    f"INSERT INTO `{db}`.t{t} (v) WITH RECURSIVE s (n) AS "
                    f"(SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) SELECT REPEAT(MD5(n), 6) FROM s"
                )
            stmts.append(f"ANALYZE TABLE `{db}`.t{t}")
        self.execute(*stmts)
        return db

    def drop_database(self, db: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS `{db}`")

    def create_login(self, grant_all_sandbox: bool = True) -> tuple[str, str]:
        user, password = f"{self.prefix}_u{len(self.users)}", secrets.token_urlsafe(12)
        self.users.append(user)
        stmts = [f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"]
        if grant_all_sandbox:
            stmts.append(f"GRANT SELECT ON `{self.prefix}\\_%`.* TO '{user}'@'%'")
        self.execute(*stmts)
        return user, password

    def server_sizes(self) -> dict[str, tuple[int, int]]:
        """(data, index) bytes per sandbox database, as the server's information_schema reports them."""
        rows = self.execute(
            "SELECT TABLE_SCHEMA, SUM(DATA_LENGTH), SUM(INDEX_LENGTH) FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA LIKE '{self.prefix}\\_%' GROUP BY TABLE_SCHEMA"
        )
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def cleanup(self):
        stmts = [f"DROP DATABASE IF EXISTS `{db}`" for db in self.databases]
        stmts += [f"DROP USER IF EXISTS '{u}'@'%'" for u in self.users]
        if stmts:
            self.execute(*stmts)


@dataclass
class PostgresSandbox:
    host: str
    port: int
    admin_user: str
    admin_password: str
    admin_db: str
    prefix: str = field(default_factory=lambda: f"capt_{secrets.token_hex(4)}")
    databases: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    def connect(self, dbname: str | None = None):
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.admin_user,
            password=self.admin_password or None,
            dbname=dbname or self.admin_db,
            autocommit=True,
            connect_timeout=5,
        )

    def execute(self, *statements, dbname: str | None = None):
        with self.connect(dbname) as conn:
            result = None
            for sql in statements:
                cur = conn.execute(sql)
                result = cur.fetchall() if cur.description else None
            return result

    def name(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"

    def create_database(self, suffix: str, rows: int = 1000) -> str:
        db = self.name(suffix)
        self.databases.append(db)
        self.execute(f'CREATE DATABASE "{db}"')
        if rows:
            self.execute(
                "CREATE TABLE t (id serial PRIMARY KEY, v text)",
                f"INSERT INTO t (v) SELECT repeat(md5(g::text), 4) FROM generate_series(1, {rows}) g",
                dbname=db,
            )
        return db

    def drop_database(self, db: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    def create_login(self) -> tuple[str, str]:
        user, password = f"{self.prefix}_u{len(self.users)}", secrets.token_urlsafe(12)
        self.users.append(user)
        self.execute(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
        return user, password

    def server_sizes(self) -> dict[str, int]:
        rows = self.execute(
            f"SELECT datname, pg_database_size(datname) FROM pg_database WHERE datname LIKE '{self.prefix}\\_%'"
        )
        return {r[0]: int(r[1]) for r in rows}

    def cleanup(self):
        for db in self.databases:
            self.drop_database(db)
        for user in self.users:
            self.execute(f'DROP ROLE IF EXISTS "{user}"')


def mysql_sandbox() -> MySQLSandbox:
    url = urlparse(MYSQL_URL)
    box = MySQLSandbox(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        admin_user=url.username or "root",
        admin_password=url.password or "",
    )
    try:
        box.execute("SELECT 1")
    except MySQLdb.Error as exc:
        _unreachable(f"MariaDB/MySQL at {box.host}:{box.port}", exc)
    return box


def postgres_sandbox() -> PostgresSandbox:
    url = urlparse(POSTGRES_URL)
    box = PostgresSandbox(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        admin_user=url.username or "postgres",
        admin_password=url.password or "",
        admin_db=(url.path or "/postgres").lstrip("/") or "postgres",
    )
    try:
        box.execute("SELECT 1")
    except psycopg.Error as exc:
        _unreachable(f"PostgreSQL at {box.host}:{box.port}", exc)
    return box
