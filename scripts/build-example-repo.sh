#!/usr/bin/env bash
# Packages the example charts in examples/src into a Helm repository in examples/repo:
# one reproducible tarball per version listed in each chart's `versions` file
# (sorted entries, owner 0, fixed mtime, gzip without a timestamp), then index.yaml
# written by `chartsync index`. Run it after editing examples/src; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}"   # 2026-01-01T00:00:00Z
chartsync="${CHARTSYNC:-.build/debug/chartsync}"
[ -x "$chartsync" ] || swift build --product chartsync >/dev/null

out=examples/repo
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
rm -f "$out"/*.tgz "$out"/index.yaml
mkdir -p "$out"

for src in examples/src/*/; do
  name=$(basename "$src")
  grep -v '^#' "$src/versions" | while read -r version app; do
    [ -n "$version" ] || continue
    rm -rf "${stage:?}/$name"
    cp -R "$src" "$stage/$name"
    rm "$stage/$name/versions"
    sed -i "s/^version: .*/version: $version/" "$stage/$name/Chart.yaml"
    if [ "$app" != "-" ]; then
      sed -i "s/^appVersion: .*/appVersion: \"$app\"/" "$stage/$name/Chart.yaml"
    fi
    find "$stage/$name" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    tar --sort=name --owner=0 --group=0 --numeric-owner --mode='u+rw,go+r,go-w' \
        --mtime="@$SOURCE_DATE_EPOCH" --format=ustar -C "$stage" -cf - "$name" \
      | gzip -9n > "$out/$name-$version.tgz"
  done
done

"$chartsync" index "$out"
echo "wrote $(ls "$out"/*.tgz | wc -l) charts and $out/index.yaml"
