#!/usr/bin/env bash
# The whole test suite: system tools (installed when missing), type-check, strict schemas, then vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/setup-tools.sh
GOPATH_DIR="$(go env GOPATH)"
export PATH="$GOPATH_DIR/bin:/usr/lib/postgresql/15/bin:$PATH"
npx tsc -p tsconfig.json
npx tsx scripts/gen-schemas.ts
npx vitest run "$@"
