#!/usr/bin/env bash
# Run every test: lint, then the whole suite on SQLite and again with PostgreSQL as the
# platform's own database. Installs what a fresh machine lacks and starts the local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh requirements-dev.txt
bash scripts/services.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The apps import one way only (ARCHITECTURE.md).
.venv/bin/lint-imports
# Migrations are committed: a model change without its migration fails here.
DEBUG=1 .venv/bin/python manage.py makemigrations --check --dry-run >/dev/null

# One pytest worker per core, at most four (pytest-xdist; each worker has its own test database,
# and every test's servers' databases and logins carry a random prefix). TEST_WORKERS=0: one process.
workers=${TEST_WORKERS:-$(( $(nproc) < 4 ? $(nproc) : 4 ))}
echo "== tests on SQLite (platform database)"
.venv/bin/pytest -p no:cacheprovider -n "$workers" "$@"
echo "== tests on PostgreSQL (platform database)"
DATABASE_URL=${TEST_PLATFORM_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/capacity_platform} \
  .venv/bin/pytest -p no:cacheprovider -n "$workers" "$@"
