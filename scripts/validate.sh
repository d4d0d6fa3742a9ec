#!/usr/bin/env bash
# The CI checksum gate: `chartsync verify` on the working tree. Proves, offline, that every
# chart in charts/external is exactly what versions.lock records (size, sha256, unpacked tree),
# that nothing else is there, and that versions.lock is current for the chart list. Reports
# every problem; exit 0 clean, 1 mismatch, 2 chart list or lock error, 3 a file unreadable.
#
# Usage: scripts/validate.sh [CHART_LIST]        (default: chartsync.yaml in the current directory)
#   JUNIT=FILE    also write the result as JUnit XML (GitLab CI, Jenkins)
#   JSON=1        print the result as JSON (schema chartsync.verify.v1, docs/schemas/)
#   CHARTSYNC=... the chartsync binary (default: `chartsync` on PATH, else the newer of
#                 this repository's .build/release and .build/debug builds)
# Under GitHub Actions (GITHUB_ACTIONS=true) each problem is also an ::error annotation.
set -euo pipefail
list="${1:-chartsync.yaml}"
source "$(dirname "$0")/chartsync-bin.sh"
args=(verify -f "$list")
if [ -n "${JUNIT:-}" ]; then args+=(--junit "$JUNIT"); fi
if [ "${JSON:-0}" = "1" ]; then args+=(--json); fi
exec "$bin" "${args[@]}"
