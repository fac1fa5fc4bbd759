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

echo "== tests on SQLite (platform database)"
.venv/bin/pytest -p no:cacheprovider "$@"
echo "== tests on PostgreSQL (platform database)"
DATABASE_URL=${TEST_PLATFORM_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/capacity_platform} \
  .venv/bin/pytest -p no:cacheprovider "$@"
