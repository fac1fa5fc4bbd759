"""Throwaway target databases and logins for the benchmark, on the local MariaDB and PostgreSQL.

Everything is named `<prefix>_...` with a fresh random prefix, and `cleanup()` drops whatever
carries the prefix (not only what this run remembers making), so a run that failed halfway
still leaves nothing behind. Admin connections come from TEST_MYSQL_URL / TEST_POSTGRES_URL,
the same variables the test suite reads.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import MySQLdb
import psycopg

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching `<prefix>_anything`, with the prefix's own `_` taken literally."""
    return prefix.replace("_", "\\_") + "\\_%"


@dataclass
class Login:
    host: str
    port: int
    username: str
    password: str


class MariaDBTarget:
    """Databases `<prefix>_dbN` (one small InnoDB table each) and a login that sees only them."""

    def __init__(self, prefix: str, url: str = MYSQL_URL):
        parsed = urlparse(url)
        self.prefix = prefix
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 3306
        self.admin_user = unquote(parsed.username or "root")
        self.admin_password = unquote(parsed.password or "")

    def _execute(self, *statements: str):
        conn = MySQLdb.connect(
            host=self.host,
            port=self.port,
            user=self.admin_user,
            password=self.admin_password,
            autocommit=True,
            connect_timeout=5,
        )
        try:
            cur = conn.cursor()
            rows = ()
            for sql in statements:
                cur.execute(sql)
                rows = cur.fetchall()
            cur.close()
            return rows
        finally:
            conn.close()

    def setup(self, databases: int = 3, rows: int = 200) -> Login:
        stmts = []
        for i in range(databases):
            db = f"{self.prefix}_db{i}"
            stmts += [
                f"CREATE DATABASE `{db}`",
                f"CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(64), KEY kv (v)) ENGINE=InnoDB",
                f"INSERT INTO `{db}`.t WITH RECURSIVE s (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                f"WHERE n < {rows}) SELECT n, MD5(n) FROM s",
                f"ANALYZE TABLE `{db}`.t",
            ]
        user, password = f"{self.prefix}_u", secrets.token_urlsafe(16)
        stmts += [
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'",
            f"GRANT SELECT ON `{_like_prefix(self.prefix)}`.* TO '{user}'@'%'",
        ]
        self._execute(*stmts)
        return Login(self.host, self.port, user, password)

    def cleanup(self) -> None:
        pattern = _like_prefix(self.prefix)
        dbs = self._execute(f"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '{pattern}'")
        users = self._execute(f"SELECT User, Host FROM mysql.user WHERE User LIKE '{pattern}'")
        stmts = [f"DROP DATABASE IF EXISTS `{name}`" for (name,) in dbs]
        stmts += [f"DROP USER IF EXISTS '{user}'@'{host}'" for user, host in users]
        if stmts:
            self._execute(*stmts)


class PostgresTarget:
    """Databases `<prefix>_dbN` (one small table each) and a login role."""

    def __init__(self, prefix: str, url: str = POSTGRES_URL):
        parsed = urlparse(url)
        self.prefix = prefix
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 5432
        self.admin_user = unquote(parsed.username or "postgres")
        self.admin_password = unquote(parsed.password or "")
        self.admin_db = (parsed.path or "/postgres").lstrip("/") or "postgres"

    def _execute(self, *statements: str, dbname: str | None = None):
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.admin_user,
            password=self.admin_password or None,
            dbname=dbname or self.admin_db,
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            rows = None
            for sql in statements:
                cur = conn.execute(sql)
                rows = cur.fetchall() if cur.description else None
            return rows

    def setup(self, databases: int = 3, rows: int = 200) -> Login:
        for i in range(databases):
            db = f"{self.prefix}_db{i}"
            self._execute(f'CREATE DATABASE "{db}"')
            self._execute(
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                f"INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, {rows}) g",
                dbname=db,
            )
        user, password = f"{self.prefix}_u", secrets.token_urlsafe(16)
        self._execute(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
        return Login(self.host, self.port, user, password)

    def cleanup(self) -> None:
        pattern = _like_prefix(self.prefix)
        for (name,) in self._execute(f"SELECT datname FROM pg_database WHERE datname LIKE '{pattern}'") or []:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for (name,) in self._execute(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{pattern}'") or []:
            self._execute(f'DROP ROLE IF EXISTS "{name}"')
