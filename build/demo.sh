#!/usr/bin/env bash
# The README's first command (npm run demo): sets up the machine, then runs the demo.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"
bash build/setup.sh
exec node_modules/.bin/node build/demo.ts "$@"
