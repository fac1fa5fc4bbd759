#!/usr/bin/env bash
# Vendor the browser libraries the admin pages use, from the npm registry, into static/vendor/.
# The pages then load them from the platform itself: no CDN, works with no internet.
# Idempotent: does nothing when the pinned version is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

CHARTJS_VERSION=${CHARTJS_VERSION:-4.5.1}
dest=static/vendor/chartjs
stamp="$dest/.version"

if [ -f "$dest/chart.umd.min.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$CHARTJS_VERSION" ]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install_assets: apt-get install npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "install_assets: chart.js@$CHARTJS_VERSION"
npm install --no-audit --no-fund --no-save --silent --prefix "$work" "chart.js@$CHARTJS_VERSION" >/dev/null

src="$work/node_modules/chart.js"
mkdir -p "$dest"
# The UMD build defines window.Chart and needs no bundler or module loader.
if [ -f "$src/dist/chart.umd.min.js" ]; then
  cp "$src/dist/chart.umd.min.js" "$dest/chart.umd.min.js"
else
  cp "$src/dist/chart.umd.js" "$dest/chart.umd.min.js"
fi
cp "$src/LICENSE.md" "$dest/LICENSE.md"
echo "$CHARTJS_VERSION" >"$stamp"
