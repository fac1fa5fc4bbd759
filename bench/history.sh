#!/usr/bin/env bash
# History benchmark (see bench/history.py): seed N daily rows, catch up the aggregates, time the
# pages and API under gunicorn. Extra arguments go to bench/history.py (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" bench/history.py "$@"
