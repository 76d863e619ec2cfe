#!/usr/bin/env bash
# Installs everything Switchyard's demo and tests need on a fresh Debian machine:
# the system packages (Open vSwitch, iproute2, reference CNI plugins, ...) through apt-get,
# and the npm dependencies, which include Node.js 24. Safe to run again: it installs only
# what is missing, and reruns `npm ci` only when package-lock.json changed.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: must run as root (Open vSwitch daemons and network namespaces need it); try: sudo $0" >&2
  exit 1
fi

packages=(openvswitch-switch openvswitch-source iproute2 iputils-ping iperf3 kmod
  containernetworking-plugins procps curl ca-certificates openssl ethtool nftables socat python3)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! command -v kubectl >/dev/null; then
  echo "setup: kubectl not found; the demo and bin/switchyard-cluster apply/delete need it, and the tests that use it will be skipped (install kubectl 1.32)" >&2
fi

stamp=node_modules/.switchyard-lock-sha
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -x node_modules/.bin/node || ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: installing npm dependencies (brings Node.js 24)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
