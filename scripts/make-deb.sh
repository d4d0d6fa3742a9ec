#!/usr/bin/env bash
# Packs a release chartsync binary (built with --static-swift-stdlib, so no Swift runtime is
# needed at the site) into dist/chartsync_<version>_<arch>.deb, installable offline with
# `dpkg -i`. Depends: lists exactly the Debian packages that own the shared libraries the binary
# needs (read from its ELF NEEDED entries); a library outside the system's (say /opt/swift) stops
# the build, since the site would not have it.
#
# Usage: scripts/make-deb.sh BINARY [OUTDIR]    (SOURCE_DATE_EPOCH fixes the file times)
set -euo pipefail
bin="$1"
out="${2:-dist}"
[ -x "$bin" ] || { echo "make-deb: $bin is not an executable" >&2; exit 2; }
version="$("$bin" --version)"
arch="$(dpkg --print-architecture)"

owner() {  # the package owning a library path (also under its /usr-merged twin)
  local path="$1" alt
  alt="${path#/usr}"; [ "$alt" = "$path" ] && alt="/usr$path"
  for p in "$path" "$alt"; do
    # (sed reads all of its input: with pipefail an early `head` would kill the writer by SIGPIPE)
    if dpkg -S "$p" >/dev/null 2>&1; then dpkg -S "$p" | sed -n '1s/:.*//p'; return 0; fi
  done
  return 1
}

depends=()
for lib in $(objdump -p "$bin" | awk '/ NEEDED / {print $2}'); do
  path="$(ldconfig -p | awk -v l="$lib" '!found && $1 == l && /x86-64|aarch64|AArch64/ {print $NF; found = 1}')"
  [ -n "$path" ] || path="$(ldconfig -p | awk -v l="$lib" '!found && $1 == l {print $NF; found = 1}')"
  if [ -z "$path" ]; then
    echo "make-deb: $bin needs $lib, which is not a system library (build with --static-swift-stdlib)" >&2
    exit 1
  fi
  pkg="$(owner "$(readlink -f "$path")")" || pkg="$(owner "$path")" || {
    echo "make-deb: no Debian package owns $path ($lib)" >&2; exit 1; }
  depends+=("$pkg")
done
depends_line="$(printf '%s\n' "${depends[@]}" | sort -u | paste -sd, - | sed 's/,/, /g')"

stage="$(mktemp -d "${TMPDIR:-/tmp}/chartsync-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$bin" "$stage/usr/bin/chartsync"
install -d "$stage/DEBIAN" "$stage/usr/share/doc/chartsync"
cat > "$stage/usr/share/doc/chartsync/README" <<DOC
chartsync $version: carries Helm charts into disconnected sites (pull, bundle, verify).
The Swift runtime is linked into /usr/bin/chartsync; the rest comes from: $depends_line.
DOC
cat > "$stage/DEBIAN/control" <<CONTROL
Package: chartsync
Version: $version
Architecture: $arch
Maintainer: chartsync developers <chartsync@localhost>
Depends: $depends_line
Section: admin
Priority: optional
Description: carry Helm charts into disconnected (airgap) sites
 chartsync resolves Helm charts as Helm does, proves every byte against the repository's
 digest, packs reproducible signed bundles and proves and unpacks them at the site.
CONTROL
mkdir -p "$out"
deb="$out/chartsync_${version}_${arch}.deb"
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
echo "Depends: $depends_line" >&2
