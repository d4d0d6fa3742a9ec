# Sourced by the wrapper scripts: sets `bin` to the chartsync binary to run: $CHARTSYNC, else
# `chartsync` on PATH, else the newer of this repository's .build/release and .build/debug builds.
bin="${CHARTSYNC:-}"
if [ -z "$bin" ]; then
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if command -v chartsync >/dev/null 2>&1; then
    bin=chartsync
  elif [ -x "$repo/.build/release/chartsync" ] && ! [ "$repo/.build/debug/chartsync" -nt "$repo/.build/release/chartsync" ]; then
    bin="$repo/.build/release/chartsync"
  elif [ -x "$repo/.build/debug/chartsync" ]; then
    bin="$repo/.build/debug/chartsync"
  else
    echo "$(basename "$0"): no chartsync binary: set CHARTSYNC, put chartsync on PATH, or run make build" >&2
    exit 2
  fi
fi
