#!/usr/bin/env bash
# The Debian packages the test rig runs: installs the ones missing, does nothing when all are there.
set -euo pipefail
packages=(pebble bind9 bind9-dnsutils pdns-server pdns-backend-sqlite3 nginx apache2 haproxy postgresql openssl chromium prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "--- installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
