#!/usr/bin/env bash
# Install everything a fresh Debian machine lacks, then a venv with the project's requirements.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(pkg-config libmariadb-dev unixodbc unixodbc-dev tdsodbc)
if [ "${WITH_BROWSER:-1}" = "1" ]; then APT_PKGS+=(chromium chromium-driver fonts-noto-cjk); fi
if ! command -v mariadbd >/dev/null 2>&1 && ! command -v mysqld >/dev/null 2>&1 && [ "${WITH_SERVERS:-0}" = "1" ]; then
  APT_PKGS+=(mariadb-server)
fi
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "bootstrap: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
REQ=${1:-requirements-dev.txt}
stamp=".venv/.installed-$(cat requirements.txt "$REQ" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$REQ"
  touch "$stamp"
fi
bash scripts/install_assets.sh
