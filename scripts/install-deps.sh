#!/usr/bin/env bash
# Installs the Debian packages chartsync builds, tests and benchmarks with.
# Idempotent: does nothing when everything is present. Needs root (or sudo) to install.
set -euo pipefail
packages=(
  libcurl4-openssl-dev libarchive-dev zlib1g-dev libyaml-dev   # build
  nginx-light openssl python3 ca-certificates                  # test servers (TLS, basic auth)
  zstd pigz                                                     # archives
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
