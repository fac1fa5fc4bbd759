#!/usr/bin/env bash
# Regenerate the README's screenshots (docs/screenshots/*.png), English and Simplified Chinese:
# a throwaway SQLite database seeded with a demo fleet, the web server on a free loopback port,
# headless Debian Chromium driven by Playwright (tests/browser/screenshots.py does the work).
# Installs what the pictures need and the machine lacks: Chromium and a CJK font (fonts-noto-cjk;
# without it Chinese text renders as empty boxes).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for p in chromium fonts-noto-cjk; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "screenshots: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fc-cache -f >/dev/null 2>&1 || true
fi
if [ ! -f static/vendor/chartjs/chart.umd.min.js ]; then bash scripts/install_assets.sh; fi

exec .venv/bin/python -m tests.browser.screenshots "$@"
