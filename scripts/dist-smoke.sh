#!/usr/bin/env bash
# After `dpkg -i dist/chartsync_*.deb`: proves the installed binary stands alone and does the
# crossing. It must not load anything from the Swift toolchain; then, on a copy of this project
# (its chart list, lock, vendored charts and the embedded example repository), it runs the gate,
# bundles, verifies and extracts the bundle into a site, and gates the site.
#
# Usage: scripts/dist-smoke.sh [BINARY]   (default: /usr/bin/chartsync)
set -euo pipefail
bin="${1:-/usr/bin/chartsync}"
cd "$(dirname "$0")/.."
# Outputs are captured first: with pipefail, `grep -q` leaving early would fail the writer.
libraries="$(ldd "$bin")"
if grep -q -e '/opt/swift' -e 'not found' <<<"$libraries"; then
  echo "dist-smoke: $bin needs libraries a site does not have:" >&2
  echo "$libraries" >&2
  exit 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/chartsync-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project"
cp -R chartsync.yaml versions.lock images.lock charts examples "$work/project/"
cd "$work"
"$bin" --version
"$bin" verify -f project/chartsync.yaml
"$bin" bundle -f project/chartsync.yaml -o delivery.bundle --name smoke --sequence 1
"$bin" verify delivery.bundle --extract site
"$bin" verify -f site/chartsync.yaml
again="$("$bin" verify delivery.bundle --extract site)"
grep -q "already installed" <<<"$again"
echo "dist-smoke: $bin verified, bundled, extracted and gated a delivery"
