#!/usr/bin/env bash
# Run the benchmark (see bench/README.md); extra arguments go to bench/run.py (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" bench/run.py "$@"
