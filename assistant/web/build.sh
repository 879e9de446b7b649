#!/usr/bin/env bash
# Installs the web interface's front-end packages into .build/web (not committed), idempotently.
# Usage: assistant/web/build.sh [TARGET_DIR]   (default: .build/web at the repository root)
# The app serves TARGET_DIR/node_modules/@gouvfr/dsfr/dist at /static/dsfr (SOUVERAIN_WEB_ASSETS_DIR).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="${1:-$here/../../.build/web}"

# Exact versions: the templates and tests are written against these builds.
packages=(
  "@gouvfr/dsfr@1.15.3"
  "dompurify@3.4.18"
  "marked@18.2.1"
  "axe-core@4.14.1"
)

mkdir -p "$target"
stamp="$target/.installed-$(printf '%s\n' "${packages[@]}" | sha256sum | cut -c1-16)"
if [[ -f "$stamp" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm est introuvable : installez Node.js (paquet Debian « npm ») puis relancez $0" >&2
  exit 1
fi
# A private package.json keeps npm from walking up to another project's.
[[ -f "$target/package.json" ]] || printf '{"name": "souverain-web-assets", "private": true}\n' > "$target/package.json"
npm install --prefix "$target" --no-audit --no-fund --save-exact --ignore-scripts "${packages[@]}"
rm -f "$target"/.installed-*
touch "$stamp"
