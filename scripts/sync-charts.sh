#!/usr/bin/env bash
# The online host's job: vendor the chart list's charts (`chartsync pull`: resolve, download,
# prove, write versions.lock), then pack everything a site needs into one airgap bundle
# (`chartsync bundle`, which proves the tree against versions.lock again before writing). When
# the project lists images (an images.lock, or an `images:` section in the chart list), images.lock
# is brought up to date with `chartsync images` between the two, so a changed chart's images travel.
# Nothing is bundled when the pull fails; the previous charts and lock stay as they were.
#
# Usage: scripts/sync-charts.sh BUNDLE [CHART_LIST]   (default chart list: chartsync.yaml)
#   SIGN_KEY=KEY        sign the bundle's manifest (chartsync keygen KEY makes one)
#   SPLIT_SIZE=4G       cut the bundle into parts (4G = what FAT32 holds)
#   SEQUENCE=N          the delivery's sequence number (default 1)
#   COMPRESSION=zstd    zstd, gzip or none
#   FROZEN=1            install exactly versions.lock (no index read; fails if it is stale)
#   CHARTSYNC=...       the chartsync binary (default: `chartsync` on PATH, else the newer of
#                       this repository's .build/release and .build/debug builds)
# Credentials come from the environment or credentials files named in the chart list, never
# from arguments (see README.md).
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: scripts/sync-charts.sh BUNDLE [CHART_LIST]" >&2
  exit 2
fi
out="$1"
list="${2:-chartsync.yaml}"
source "$(dirname "$0")/chartsync-bin.sh"
pull=(pull -f "$list")
if [ "${FROZEN:-0}" = "1" ]; then pull+=(--frozen); fi
"$bin" "${pull[@]}"
root="$(dirname "$list")"
if [ -f "$root/images.lock" ] || grep -q '^images:' "$list"; then
  "$bin" images -f "$list"
fi
bundle=(bundle -f "$list" -o "$out" --compression "${COMPRESSION:-zstd}" --sequence "${SEQUENCE:-1}")
if [ -n "${SIGN_KEY:-}" ]; then bundle+=(--sign-key "$SIGN_KEY"); fi
if [ -n "${SPLIT_SIZE:-}" ]; then bundle+=(--split-size "$SPLIT_SIZE"); fi
mkdir -p "$(dirname "$out")"
"$bin" "${bundle[@]}"
