#!/usr/bin/env bash
# Fills the data directory with what `truefilm run` reads: the movies CSV, and
# the abstract dump or the CirrusSearch dump. The work is done by the program
# itself (`truefilm download`, src/download/); this name stays because the
# docs and the container's banner point users to it.
#   ./data_download.sh --help
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAIN=$SCRIPT_DIR/dist/main.js

if [[ ! -f $MAIN ]]; then
  printf 'data_download.sh: %s is missing: build the program first (npm ci && npm run build)\n' "$MAIN" >&2
  exit 1
fi
command -v node >/dev/null 2>&1 || {
  printf 'data_download.sh: node is not on the PATH: install Node.js 20.10 or later\n' >&2
  exit 1
}
exec node "$MAIN" download "$@"
