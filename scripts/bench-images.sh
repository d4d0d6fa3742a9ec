#!/usr/bin/env bash
# Benchmark: moving container images (issues 13 and 14), side by side with the standard tools in
# one run, on one machine, offline.
#
# Data: IMAGES (20) OCI images of about IMAGES_MIB (2048) MiB of distinct layer bytes in all,
# sharing base layers (scripts/bench/make-images.py: 4 families of images with two base layers
# each, 3 layers of their own per image; 88 blobs and 20 manifests with the defaults; every layer
# incompressible), and one image with a single BIG_MIB (1024) MiB layer, pushed into Debian's
# docker-registry on 127.0.0.1. Images come from remote registries (Docker Hub, quay.io, nvcr.io),
# where every request costs a round trip, so the tools reach the registry through
# scripts/bench/latency-server.py --upstream, a reverse proxy that waits DELAY_MS (50) ms before
# forwarding every request (keep-alive on both sides). It adds latency per request, as a remote
# registry does, and as little else as it can: bodies move between its sockets with os.splice,
# never through Python (before, its 64 KiB Python copies cost 0.56 CPU s per GiB and capped the
# throughput, pulling every ratio toward 1; now 0.24 s, the kernel's work for one more loopback
# hop). With DIRECT=1 (the default) chartsync and curl are measured straight against the registry
# as well (no latency, no proxy).
#
# PARTS=images (issue 13; `BENCHES=images`; the default):
#   pull:   `chartsync images --pull --jobs JOBS` of a project whose chart list names the 20
#           images under images.extra (registries: plainHTTP; images.lock pinned by an untimed
#           first run; images/ deleted before every run)
#           vs `skopeo copy --all --src-tls-verify=false docker://REF oci:DIR:REF`, one image at a
#           time, all into one layout (so shared blobs are fetched once)
#           vs `curl --parallel --parallel-max JOBS` over the same requests (the 20 manifests by
#           digest and the 88 blob URLs), then `sha256sum -c`;
#   big:    the 1 GiB layer: `chartsync images --pull` of a project naming only that image vs
#           `curl -o` of its blob URL (straight to the registry: one request's latency is
#           nothing next to 1 GiB);
#   bundle: `chartsync bundle` of the pulled project (its images/) vs `tar -cf - images | zstd -T0`;
#   verify: `chartsync verify BUNDLE --extract DIR` vs `zstd -dc | tar -x` then `sha256sum -c`
#           over every blob.
# PARTS=push (issue 14; `BENCHES=push`, scripts/bench-push.sh), each run into a fresh, empty
# registry behind its own latency proxy:
#   `chartsync push PROJECT --registry HOST/site --plain-http --jobs JOBS` (the store pulled above)
#   vs `skopeo copy --all --dest-tls-verify=false oci:STORE:REF docker://HOST/site/...`, one image
#   at a time, vs curl with the same parallelism (xargs -P JOBS): every distinct blob uploaded once
#   (POST then a monolithic PUT ?digest=), mounted into the other repositories that need it
#   (POST ?mount=&from=), then the manifests PUT; and a second `chartsync push` of the same project
#   into the same registry (nothing to send).
#
# Runs are interleaved tool by tool; medians (with min and max) of RUNS runs after WARMUP untimed
# ones; peak RSS from wait4 (the largest process of the command's tree). Every result is checked
# (blobs hashed against their names, pushed manifests' digests); `sync` before every timed
# command. Not a test: numbers depend on the machine. Exits non-zero when anything fails; a
# missed goal fails only with STRICT=1. Needs about 6 x IMAGES_MIB + 3 x BIG_MIB of free disk.
#
# Usage: scripts/bench-images.sh
#   PARTS=images  what to measure: images, push, or "images push" (scripts/bench-push.sh sets push)
#   RUNS=3  WARMUP=1
#   IMAGES=20  IMAGES_MIB=2048  BIG_MIB=1024 (0: no big layer)
#   DELAY_MS=50  JOBS=8 (chartsync's default --jobs; curl's parallelism)  DIRECT=1
#   REGISTRY=/usr/bin/docker-registry  STRICT=1  TMPDIR=/tmp
#   BENCH_RESULTS=FILE  also append machine-readable results there (scripts/bench/report.py)
# Needs curl, skopeo, zstd, tar, sha256sum, python3, docker-registry; the binary is
# .build/release/chartsync, built (or brought up to date) with `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/.."
parts="${PARTS:-images}"
registry="${REGISTRY:-$(command -v docker-registry || echo /usr/bin/docker-registry)}"
for tool in python3 curl skopeo zstd tar sha256sum xargs; do
  command -v "$tool" >/dev/null || { echo "bench-images: $tool is needed" >&2; exit 2; }
done
[ -x "$registry" ] || { echo "bench-images: docker-registry is needed (REGISTRY=/path)" >&2; exit 2; }
echo "building chartsync (release)..." >&2
swift build -c release --product chartsync >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-images.XXXXXX")
measure_pid=""
cleanup() {
  if [ -n "$measure_pid" ]; then
    kill "$measure_pid" 2>/dev/null || true
    wait "$measure_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# In the background so that a signal reaches the trap at once; the measuring Python starts and
# stops the registries and proxies itself.
python3 -u scripts/bench/measure-images.py --work "$work" --registry "$registry" --parts "$parts" \
  --runs "${RUNS:-3}" --warmup "${WARMUP:-1}" --images "${IMAGES:-20}" --images-mib "${IMAGES_MIB:-2048}" \
  --big-mib "${BIG_MIB:-1024}" --delay-ms "${DELAY_MS:-50}" --jobs "${JOBS:-8}" --direct "${DIRECT:-1}" &
measure_pid=$!
status=0
wait "$measure_pid" || status=$?
measure_pid=""
exit "$status"
