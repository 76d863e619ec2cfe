#!/usr/bin/env bash
# The test command: sets up the machine, then runs lint, the type check and the unit,
# integration and end-to-end suites. Integration and end-to-end suites start their own
# Open vSwitch daemons and network namespaces and remove them again.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"
bash build/setup.sh
exec npm run test:all
