#!/usr/bin/env bash
# Installs the CNI plugin as DEST/switchyard (default DEST: /opt/cni/bin).
#
# The binary's modules are compiled to plain JavaScript in DEST/.switchyard/ (see
# cni/compile.ts), because loading the TypeScript sources costs about 100 ms per start.
# The launcher execs this checkout's Node 24 by absolute path, so after moving the
# checkout or upgrading Node run this script again.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
dest="${1:-/opt/cni/bin}"
node="$(readlink -f "$root/node_modules/.bin/node")"

if [[ ! -x "$node" ]]; then
  echo "install-cni: $root/node_modules/.bin/node is missing; run npm install in $root first" >&2
  exit 1
fi
mkdir -p "$dest"
"$node" --disable-warning=ExperimentalWarning "$root/cni/compile.ts" "$dest/.switchyard" >/dev/null

tmp="$(mktemp "$dest/.switchyard-launcher.XXXXXX")"
cat >"$tmp" <<LAUNCHER
#!/bin/sh
# Switchyard CNI plugin launcher, written by $root/build/install-cni.sh.
exec "$node" "$dest/.switchyard/main.mjs" "\$@"
LAUNCHER
chmod 0755 "$tmp"
# rename is atomic, so a runtime never executes a half-written launcher.
mv -f "$tmp" "$dest/switchyard"
echo "installed $dest/switchyard (Node $("$node" --version))"
