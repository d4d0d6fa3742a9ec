#!/usr/bin/env bash
# The whole crossing on the embedded example (examples/repo), offline: `make demo` runs it.
#
# On the "online host" (demo/online/, a project made here with its own chart list) chartsync
# vendors the charts, lists (and, with a local registry, pulls) their images, shows what is newer
# and what an upgrade would change, and packs a signed bundle split into parts. At the "site"
# (demo/site/) it proves the parts, the signature and every file, installs the delivery, pushes
# it into the site's registry, and ends with the gate passing inside the site.
#
# When Debian's docker-registry and python3 are installed (`make deps` installs them; CI has
# them), the demo starts a registry on 127.0.0.1 for the run (stopped on exit), pushes two small
# stand-in images into it (made-up bytes, named like the images the charts use) so that
# `images --pull` has an upstream, and later pushes the site into it under `site/`. Without
# them those steps are skipped with a note. `chartsync diff` runs when this build has it.
#
# Everything is written under demo/ (ignored by git), which each run starts afresh.
# Usage: scripts/demo.sh   (CHARTSYNC=path/to/chartsync to use another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
bin="${CHARTSYNC:-$repo/.build/debug/chartsync}"
if ! [ -x "$bin" ] && ! command -v "$bin" >/dev/null 2>&1; then
  echo "demo: no chartsync binary at $bin: run make build (or set CHARTSYNC)" >&2
  exit 2
fi
# Bundle entries carry this fixed mtime (bundles are byte-reproducible; the fresh key still
# makes each run's signature, and so its bundle bytes, its own).
export SOURCE_DATE_EPOCH=1767225600

work=demo
step=0
# One plain-English line, then the command as typed, then its own output (indented).
say() { step=$((step + 1)); printf '\n%d. %s\n' "$step" "$1"; }
run() {
  local shown="$*"
  shown="${shown//$bin/chartsync}"
  printf '   $ %s\n' "$shown"
  "$@" 2>&1 | sed -e "s|$repo/||g" -e 's/^/     /'
}
note() { printf '   (%s)\n' "$1"; }

rm -rf "$work"
mkdir -p "$work/online" "$work/usb"

# --- A local registry, when Debian's docker-registry is here --------------------------------
registry=""
registry_pid=""
stop_registry() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    registry_pid=""
  fi
  rm -rf "$work/registry"
}
trap stop_registry EXIT
trap 'exit 130' INT TERM

registry_bin="${DEMO_REGISTRY_BIN:-/usr/bin/docker-registry}"
# Prints PORT when nothing listens on 127.0.0.1:PORT (0: any free port), as the registry binds.
free_port() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1])
PY
}
if [ -x "$registry_bin" ] && command -v python3 >/dev/null 2>&1; then
  # The same port every run when it is free (a stable transcript), else any free one.
  port="$(free_port "${DEMO_REGISTRY_PORT:-5042}" || free_port 0)"
  for _ in 1 2 3 4 5; do
    mkdir -p "$work/registry/storage"
    cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $repo/$work/registry/storage
http:
  addr: 127.0.0.1:$port
  secret: chartsync-demo
EOF
    "$registry_bin" serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
    registry_pid=$!
    # Ready when this registry says it listens (not another server that took the port meanwhile).
    for _ in $(seq 100); do
      kill -0 "$registry_pid" 2>/dev/null || break
      if grep -q "listening on 127.0.0.1:$port" "$work/registry/log"; then
        registry="127.0.0.1:$port"
        break
      fi
      sleep 0.1
    done
    [ -n "$registry" ] && break
    cp "$work/registry/log" "$work/registry.log" 2>/dev/null || true
    stop_registry
    port="$(free_port 0)"
  done
  if [ -z "$registry" ]; then
    echo "demo: docker-registry did not start:" >&2
    cat "$work/registry.log" >&2 || true
    exit 1
  fi
fi

# --- The online host's project ------------------------------------------------------------
# hello-web is held at ~1.0 (1.0.0) while the repository already has 1.1.0: something to upgrade.
# With the registry, the site mirrors its images there: values files point the charts at it.
web_values=""
worker_values=""
if [ -n "$registry" ]; then
  mkdir -p "$work/online/values"
  printf 'image:\n  registry: %s\n' "$registry" >"$work/online/values/hello-web.yaml"
  printf 'image: %s/library/busybox:1.36\n' "$registry" >"$work/online/values/hello-worker.yaml"
  web_values=$'\n    values: [values/hello-web.yaml]      # images from the demo registry'
  worker_values=$'\n    values: [values/hello-worker.yaml]'
fi
cat >"$work/online/chartsync.yaml" <<EOF
# The demo's chart list (written by scripts/demo.sh).
repositories:
  - name: example
    url: ../../examples/repo      # the embedded example repository: no network needed

charts:
  - name: hello-web
    repository: example
    version: "~1.0"               # the site runs 1.0.x; the repository also has 1.1.0$web_values
  - name: hello-worker
    repository: example
    version: ">=0.4 <1.0"$worker_values
EOF
if [ -n "$registry" ]; then
  cat >>"$work/online/chartsync.yaml" <<EOF

images:
  registries:
    - host: $registry
      plainHTTP: true             # the demo registry on 127.0.0.1
EOF
fi

echo "chartsync demo: the whole crossing on the embedded example, offline (everything under $work/)"
echo "online host: $work/online (its chart list below); site: $work/site; USB stick: $work/usb"
sed 's/^/     /' "$work/online/chartsync.yaml"

if [ -n "$registry" ]; then
  say "Start a local image registry ($registry) and push two small stand-in images into it"
  for image in "library/nginx 1.25.3 1" "library/busybox 1.36 2"; do
    set -- $image
    python3 Tests/Support/Scripts/registry-push.py --url "http://$registry" --repository "$1" \
      --tag "$2" --seed "$3" --format oci >/dev/null
    echo "     pushed $registry/$1:$2"
  done
fi

say "Vendor the charts of the chart list into charts/external; every tarball is proven against the repository's sha256"
run "$bin" pull -q -f "$work/online/chartsync.yaml"

if [ -n "$registry" ]; then
  say "Find the images the charts use, pin them by digest (images.lock) and fetch them, proven, into images/"
  run "$bin" images -q -f "$work/online/chartsync.yaml" --pull
else
  say "Find the images the charts use and list them in images.lock"
  run "$bin" images -f "$work/online/chartsync.yaml"
  note "skipped pulling them: Debian's docker-registry (and python3) are needed for a local registry; make deps installs them"
fi

say "Which charts have newer versions than the ones locked?"
run "$bin" outdated -f "$work/online/chartsync.yaml"

say "What would change for us if hello-web went to 1.1.0? (nothing vendored changes)"
# (`chartsync diff --help` prints the tool's own help when there is no diff command.)
if "$bin" diff --help 2>/dev/null | grep -q '^USAGE: chartsync diff'; then
  run "$bin" diff hello-web --to 1.1.0 -f "$work/online/chartsync.yaml"
else
  note "skipped: this chartsync has no diff command yet"
fi

say "Make an Ed25519 key pair to sign deliveries with"
run "$bin" keygen "$work/online/signing.key"

say "Pack charts, locks${registry:+ and images} into one signed bundle on the USB stick, split into 2 KiB parts (for a real FAT32 stick: 4G)"
run "$bin" bundle -f "$work/online/chartsync.yaml" -o "$work/usb/example.bundle" \
  --name example --sequence 1 --sign-key "$work/online/signing.key" --split-size 2K

say "At the site: prove every part, the signature and every file, then install the delivery into $work/site"
run "$bin" verify "$work/usb/example.bundle.000" --trusted-key "$work/online/signing.key.pub" --extract "$work/site"

if [ -n "$registry" ]; then
  say "Fill the site's registry (here the demo registry, under site/) with the delivery's charts and images"
  run "$bin" push -q "$work/site" --registry "$registry/site" --plain-http
  if command -v skopeo >/dev/null 2>&1; then
    say "Read a pushed image back with skopeo: the site's registry has the digest images.lock pins"
    pushed="docker://$registry/site/library/nginx:1.25.3"
    printf '   $ skopeo inspect --tls-verify=false --format "{{.Digest}}" %s\n' "$pushed"
    digest="$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "$pushed")"
    echo "     $digest"
    if grep -q "nginx:1.25.3@$digest\"" "$work/site/images.lock"; then
      echo "     (the digest $work/site/images.lock pins for $registry/library/nginx:1.25.3)"
    else
      echo "demo: the pushed digest is not the one images.lock pins:" >&2
      cat "$work/site/images.lock" >&2
      exit 1
    fi
  else
    note "skipped reading it back: skopeo is not installed"
  fi
else
  say "Fill the site's registry with the delivery's charts and images"
  note "skipped: Debian's docker-registry (and python3) are needed for a local registry; make deps installs them"
fi

say "The gate inside the site: the vendored charts are exactly what versions.lock records, the locks match the chart list"
run "$bin" verify -f "$work/site/chartsync.yaml"

echo
echo "demo done: the delivery crossed and the gate passes in $work/site"
