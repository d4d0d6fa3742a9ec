#!/usr/bin/env bash
# Runs every benchmark and writes BENCHMARKS.md at the repository root: the machine (CPU, cores,
# memory, kernel, SHA instructions, the work directory's disk and filesystem, tool versions), a
# summary of the goals (met or missed) and key figures, then for each benchmark its data, its
# goals, the command that reproduces it and the table it printed.
#
#   index   scripts/bench-index.sh    chartsync search over a 36 MB index vs PyYAML
#   pull    scripts/bench-pull.sh     chartsync pull vs curl loops (latency server, nginx)
#   oci     scripts/bench-oci.sh      chartsync pull from an oci:// registry vs helm pull, curl (latency proxy)
#   bundle  scripts/bench-bundle.sh   chartsync bundle / verify BUNDLE --extract vs tar, zstd, sha256sum
#   gate    scripts/bench-gate.sh     chartsync verify (the CI gate) vs sha256sum -c, openssl dgst
#   images  scripts/bench-images.sh   chartsync images --pull, bundle, verify of 2 GiB of images vs skopeo,
#                                     curl, tar | zstd, sha256sum (latency proxy)
#   push    scripts/bench-push.sh     chartsync push of those images vs skopeo and curl (latency proxy)
#
# Each script prints its table on stdout (copied here into the report) and appends its results
# to the file named by BENCH_RESULTS (see scripts/bench/report.py), which the summary is made of.
# A script that fails is reported as failed (with the end of its stderr) and the others still
# run; this script then exits 1. BENCHMARKS.md is replaced only at the end, in one piece.
#
# Usage: scripts/bench.sh   (or `make bench`)
#   BENCHES="index pull oci bundle gate"  which ones, in this order (BENCHES=oci runs one; commas or
#                                     spaces between names; images and push run only when named)
#   OUT=BENCHMARKS.md                 where the report goes (relative to the repository root)
#   The scripts' knobs pass through: RUNS, WARMUP, STRICT, CHARTS, ... reach every script that
#   reads them. NAME_KNOB sets a knob for one script only and wins over KNOB: for example
#   GATE_CHARTS=20 PULL_CHARTS=50 BUNDLE_SIZE_MIB=64 INDEX_RUNS=3. Each script's header lists
#   its knobs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
benches="${BENCHES:-index pull oci bundle gate}"
benches="${benches//,/ }"
out="${OUT:-BENCHMARKS.md}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac

# The knobs each script reads (see their headers).
declare -A knobs=(
  [index]="RUNS CHARTSYNC_SHARED STRICT"
  [pull]="RUNS WARMUP CHARTS DELAY_MS BIG_MIB NGINX STRICT TMPDIR"
  [oci]="RUNS WARMUP HELM_RUNS CHARTS DELAY_MS JOBS REGISTRY STRICT TMPDIR"
  [bundle]="RUNS SIZE_MIB BENCH_DIR STRICT"
  [gate]="RUNS WARMUP CHARTS CHART_KIB STRICT BENCH_DIR TMPDIR GATE_CMD"
  [images]="RUNS WARMUP IMAGES IMAGES_MIB BIG_MIB DELAY_MS JOBS DIRECT REGISTRY STRICT TMPDIR"
  [push]="RUNS WARMUP IMAGES IMAGES_MIB DELAY_MS JOBS REGISTRY STRICT TMPDIR"
)
for name in $benches; do
  [ -n "${knobs[$name]+x}" ] || { echo "bench: unknown benchmark '$name' (index pull oci bundle gate images push)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chartsync-bench.XXXXXX")
child=""   # the running benchmark script
cleanup() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# Scripts run in the background (so that a signal is handled at once) and thus ignore SIGINT:
# the trap passes it on as SIGTERM, which every script handles (cleaning up its files).
trap 'exit 130' INT TERM HUP

echo "building chartsync (release)..." >&2
swift build -c release --product chartsync >/dev/null

# The machine, as key<TAB>value lines.
first_line() { "$@" 2>&1 | head -n 1 || true; }
version_of() {   # version_of TOOL ARGS...: the first line of TOOL ARGS, or "not found"
  if command -v "$1" >/dev/null; then first_line "$@"; else echo "not found"; fi
}
describe_dir() {   # where DIR is: filesystem, device, size, free, mount options
  local dir=$1 source fstype options
  read -r source fstype options < <(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$dir" 2>/dev/null || echo "? ? ?")
  local size free
  read -r size free < <(df -Pk "$dir" | awk 'NR==2 {printf "%.0f %.0f\n", $2 / 1048576, $4 / 1048576}')
  local disk=""
  if [ -b "$source" ] && command -v lsblk >/dev/null; then
    disk=$(lsblk -dn -o MODEL,ROTA "$source" 2>/dev/null | awk '{rota = $NF; $NF = ""; sub(/ +$/, "");
      printf "%s%s", ($0 == "" ? "" : $0 ", "), (rota == 1 ? "rotational per lsblk" : "non-rotational per lsblk")}' || true)
  fi
  echo "$dir: $fstype on $source${disk:+ ($disk)}, ${size} GiB, ${free} GiB free ($options)"
}
{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'commit\t%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  [ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ {print $2; exit}')
  printf 'CPU\t%s (%s)\n' "${cpu:-unknown}" "$(uname -m)"
  printf 'cores\t%s available (%s in /proc/cpuinfo)\n' "$(nproc)" "$(grep -c '^processor' /proc/cpuinfo)"
  printf 'memory\t%s\n' "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  if grep -qw sha_ni /proc/cpuinfo; then sha="yes (sha_ni)"
  elif grep -qw sha2 /proc/cpuinfo; then sha="yes (sha2)"
  else sha="no"; fi
  printf 'SHA instructions\t%s\n' "$sha"
  printf 'load average at start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'work directory\t%s\n' "$(describe_dir "${TMPDIR:-/tmp}")"
  if [ "${BENCH_DIR:-/tmp}" != "${TMPDIR:-/tmp}" ]; then
    printf 'work directory (bundle, gate)\t%s\n' "$(describe_dir "${BENCH_DIR:-/tmp}")"
  fi
  printf 'chartsync\t%s (release build)\n' "$(first_line .build/release/chartsync --version)"
  printf 'swift\t%s\n' "$(version_of swift --version)"
  printf 'curl\t%s\n' "$(version_of curl --version)"
  printf 'openssl\t%s\n' "$(version_of openssl version)"
  printf 'zstd\t%s\n' "$(version_of zstd --version | sed 's/^[* ]*//; s/[* ]*$//')"
  printf 'tar\t%s\n' "$(version_of tar --version)"
  printf 'sha256sum\t%s\n' "$(version_of sha256sum --version)"
  printf 'python\t%s\n' "$(version_of python3 --version)"
  printf 'PyYAML\t%s\n' "$(python3 -c 'import yaml; print(yaml.__version__, "(libyaml C loader)" if getattr(yaml, "__with_libyaml__", False) else "(no C loader)")' 2>/dev/null || echo "not found")"
  printf 'Helm (Python SDK)\t%s\n' "$(python3 -c 'import importlib.metadata as m; print("helm-python-sdk", m.version("helm-python-sdk"))' 2>/dev/null || echo "not found")"
  registry="${REGISTRY:-$(command -v docker-registry || echo /usr/bin/docker-registry)}"
  printf 'docker-registry\t%s\n' "$(if [ -x "$registry" ]; then first_line "$registry" --version; else echo "not found"; fi)"
  nginx="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
  printf 'nginx\t%s\n' "$(if [ -x "$nginx" ]; then first_line "$nginx" -v; else echo "not found"; fi)"
} >"$tmp/machine.tsv"

shell_word() {   # VALUE as one shell word, quoted only when it needs to be
  if [[ $1 =~ ^[A-Za-z0-9_./:,+=@%-]+$ ]]; then printf '%s' "$1"; else printf '%s' "${1@Q}"; fi
}

failed=0
for name in $benches; do
  envs=() shown=()
  upper=${name^^}
  for knob in ${knobs[$name]}; do
    own="${upper}_${knob}"
    if [ -n "${!own+x}" ]; then
      envs+=("$knob=${!own}")
      shown+=("$knob=$(shell_word "${!own}")")
    elif [ -n "${!knob+x}" ]; then
      shown+=("$knob=$(shell_word "${!knob}")")
    fi
  done
  echo "${shown[*]}${shown[*]:+ }bash scripts/bench-$name.sh" >"$tmp/$name.command"
  echo "== bench-$name: $(cat "$tmp/$name.command")" >&2
  start=$(date +%s)
  exec 4> >(tee "$tmp/$name.err" >&2)
  tee_pid=$!
  env ${envs[@]+"${envs[@]}"} BENCH_RESULTS="$tmp/$name.tsv" bash "scripts/bench-$name.sh" >"$tmp/$name.out" 2>&4 &
  child=$!
  exec 4>&-
  status=0
  wait "$child" || status=$?
  child=""
  wait "$tee_pid" 2>/dev/null || true
  echo "$status $(( $(date +%s) - start ))" >"$tmp/$name.status"
  cat "$tmp/$name.out"
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "== bench-$name FAILED (exit status $status)" >&2
  fi
done

python3 - "$tmp" "$out" $benches <<'PY'
import os, sys

tmp, out, benches = sys.argv[1], sys.argv[2], sys.argv[3:]

TITLES = {
    "index": "Index reading: chartsync search vs PyYAML",
    "pull": "Pull: chartsync pull vs curl",
    "oci": "OCI pull: chartsync pull vs helm pull and curl",
    "bundle": "Bundle and verify BUNDLE: chartsync vs tar, zstd and sha256sum",
    "gate": "CI gate: chartsync verify vs sha256sum -c and openssl dgst",
    "images": "Images: chartsync images --pull, bundle and verify vs skopeo, curl, tar, zstd and sha256sum",
    "push": "Push: chartsync push vs skopeo and curl",
}
ABOUT = {
    "index": """\
**Data**: one `index.yaml` of about 36 MB of real chart entries (632 charts, made by
`../shared/tools/make-large-index.py`). **Measured**: `chartsync search --repo file://DIR CHART
--versions` (one chart looked up in the whole index, release build) against loading the same file
with PyYAML's C loader (`yaml.CSafeLoader`); medians of `RUNS` runs (5), peak RSS from wait4.
**Goals**: chartsync takes at most 1/15 of PyYAML's time; its peak memory stays under twice the
index's size.""",
    "pull": """\
**Data**: 200 small real charts (5-20 KB each) served by a local HTTP/1.1 server that waits 50 ms
before every answer (`scripts/bench/latency-server.py`), and one 1 GiB chart served by nginx
(sendfile, no added latency); everything local, no network. **Measured**: `chartsync pull` (16 and
50 jobs) against a sequential `curl -o` loop and `curl --parallel` (each fetching `index.yaml` first
and ending with `sha256sum -c`); for the big chart, against `curl -o` (and, for context, with
`sha256sum -c` and an fsync). Fresh outputs for every run; medians of `RUNS` runs (5) after
`WARMUP` (1). **Goals**: at least 6x faster than the sequential loop; at most 1.2x the time of
`curl --parallel --parallel-max 16`; the 1 GiB chart in at most 1.3x the time of `curl -o`.""",
    "oci": """\
**Data**: 200 small real charts (5-20 KB each) pushed by Helm (`helm_python.registry.push`) into
Debian's `docker-registry` on 127.0.0.1, reached by every tool only through a reverse proxy that
waits 50 ms before forwarding every request (`scripts/bench/latency-server.py --upstream`).
**Measured**: `chartsync pull --jobs 16` (and 50) of a chart list naming `oci://HOST/charts` with
`plainHTTP: true`, against Helm pulling the charts one by one (one Python process calling Helm 4's
Go SDK, `helm_python.registry.pull`, 200 times: a `helm pull` loop without 200 process start-ups;
the wheel has no `helm` binary) and `curl --parallel --parallel-max 16` over (a) the same requests
chartsync makes, manifest by tag + blob per chart (exact versions: like `helm pull --version`,
chartsync lists no tags), all in one batch, and (b) the 200 blob URLs only (digests known in
advance); for context, (a) with `Connection: close`: a new connection per request, as chartsync's
libcurl client makes them. Each curl and Helm run ends with `sha256sum -c`. The proxy counts the
requests and connections of every tool (listed below the table). Fresh outputs for every run;
medians of `RUNS` runs (5; `HELM_RUNS`, 3, of Helm's loop) after `WARMUP` (1, none for Helm).
**Goals**: at least 10x faster than Helm one by one; at most 1.3x the time of `curl --parallel`
making the same requests at the same concurrency (the blob-only ratio is given for context).""",
    "bundle": """\
**Data**: 2 GiB of incompressible data (1,024 files of 2 MiB) under `charts/custom` of a project
(`SIZE_MIB`). **Measured**: `chartsync bundle` (zstd) against `tar -cf - | zstd -3 -T0`, and
`chartsync verify BUNDLE --extract DIR` against `zstd -dc | tar -x` followed by `sha256sum -c`;
medians of `RUNS` runs (3). **Goals**: bundle at most 1.2x the time of tar | zstd; verify at most
1.0x the time of zstd | tar + sha256sum; peak RSS of both under 100 MB.""",
    "gate": """\
**Data**: 500 real chart tarballs of about 2 MiB each (`CHARTS`, `CHART_KIB`; random payload,
incompressible) in a folder repository indexed by `chartsync index`, vendored by `chartsync pull`
into `charts/external` of a project whose chart list names them all; the repository is deleted
before measuring. **Measured**, on the same 500 files with a warm page cache (one untimed warm-up
each, which also checks every tool's answer), runs interleaved: `chartsync verify -f
PROJECT/chartsync.yaml` (the gate: every file against `versions.lock`, sha256 and size, on all
cores, and the lock current), `sha256sum --quiet --strict -c SHA256SUMS` (one process) and
`openssl dgst -sha256` with all 500 files as arguments (one process); for context, openssl split
over as many processes as there are CPUs. Medians of `RUNS` runs (5); the gate's peak RSS from
wait4. Afterwards the gate must fail (exit 1) on a tarball with one byte changed (same size and
mtime). **Goals**: `sha256sum -c` takes at least 3x the gate's time; the gate at most 1.3x the time
of `openssl dgst`.""",
    "images": """\
**Data**: 20 OCI images with 2 GiB of distinct layer bytes in all (`IMAGES`, `IMAGES_MIB`), made by
`scripts/bench/make-images.py`: 4 families of 5 images, each family sharing two base layers (a
quarter of the bytes), each image with three layers of its own and a config (88 distinct blobs, 20
manifests; incompressible gzip layers), and one more image with a single 1 GiB layer (`BIG_MIB`),
in Debian's `docker-registry` on 127.0.0.1. Images come from remote registries, where every request
costs a round trip: the tools reach the registry through `scripts/bench/latency-server.py
--upstream`, which waits 50 ms before forwarding every request (`DELAY_MS`; keep-alive; bodies
moved between its sockets by os.splice, never through Python, so that it adds latency per request
and no throughput cap of its own); chartsync and curl are also measured straight against the
registry (no latency, no proxy). **Measured**: `chartsync
images --pull --jobs 8` of a project whose chart list names the 20 images under `images.extra`
(images.lock pinned beforehand; `images/` deleted before every run) against `skopeo copy --all
--src-tls-verify=false docker://REF oci:DIR:REF` one image at a time into one layout, and `curl
--parallel --parallel-max 8` over the same requests (20 manifests by digest, 88 blobs) then
`sha256sum -c`; the 1 GiB layer (straight, no proxy) against `curl -o`; `chartsync bundle` of the
pulled project against `tar -cf - images | zstd -T0`; `chartsync verify BUNDLE --extract DIR`
against `zstd -dc | tar -x` then `sha256sum -c` of every blob. Runs interleaved; medians of `RUNS`
runs (3) after `WARMUP` (1); peak RSS from wait4; every result checked (blobs against their names).
**Goals**: at least 3x faster than skopeo; at most 1.2x curl --parallel; peak memory under 100 MB;
the 1 GiB layer at most 1.3x `curl -o`; bundle at most 1.2x tar | zstd; verify + extract at most
0.7x zstd | tar + sha256sum.""",
    "push": """\
**Data**: the image set of the images benchmark (20 OCI images, 2 GiB of distinct layers, shared
base layers), pulled by `chartsync images --pull` (untimed). **Measured**, each run into a fresh,
empty `docker-registry` reached through its own 50 ms latency proxy: `chartsync push PROJECT
--registry HOST/site --plain-http --jobs 8` against `skopeo copy --all --dest-tls-verify=false
oci:STORE:REF docker://HOST/site/...` one image at a time, and curl with the same parallelism
(`xargs -P 8`): every distinct blob once (POST, then a monolithic PUT `?digest=`), the shared ones
then mounted into the other repositories (POST `?mount=&from=`), then the 20 manifests PUT; and a
second `chartsync push` into the same registry (nothing to send; the proxy must see only HEADs).
Every pushed manifest's digest is checked. Medians of `RUNS` runs (3) after `WARMUP` (1).
**Goals**: at least 3x faster than skopeo; at most 1.3x curl; the second push at least 50x faster
than the first.""",
}


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def fence(text):
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text.rstrip()}\n{ticks}"


machine = [line.split("\t", 1) for line in read(os.path.join(tmp, "machine.tsv")).splitlines() if "\t" in line]
info = dict(machine)
lines = ["# chartsync benchmarks", "",
         f"Written by `scripts/bench.sh` (`make bench`) on {info.get('date', '?')}, commit {info.get('commit', '?')}.",
         "Numbers depend on the machine and on what else runs on it (the load average at the start is",
         "below); ratios against standard tools measured in the same runs are steadier than times.",
         "Each section says what was measured (with the default sizes) and gives the command that",
         "reproduces it, with the knobs this run set.", "",
         "## Machine", "", "| | |", "|---|---|"]
lines += [f"| {cell(k)} | {cell(v)} |" for k, v in machine]

sections, summary, failures = [], [], []
for name in benches:
    status_text = read(os.path.join(tmp, f"{name}.status"), "? 0").split()
    status, seconds = int(status_text[0]) if status_text[0].lstrip("-").isdigit() else -1, int(status_text[1])
    rows = [r.split("\t") for r in read(os.path.join(tmp, f"{name}.tsv")).splitlines()]
    rows = [r for r in rows if len(r) == 6]
    err_text = read(os.path.join(tmp, f"{name}.err"))
    if status != 0:
        failures.append(name)
        why = ("a goal was missed, STRICT=1" if status == 1 and "a goal was missed (STRICT=1)" in err_text
               else "see its stderr below")
        summary.append(f"| {name} | script | **failed** (exit status {status}: {why}) | | **failed** |")
    for _, kind, measure, value, goal, verdict in rows:
        verdict = {"met": "met", "MISSED": "**missed**"}.get(verdict, "")
        summary.append(f"| {name} | {cell(measure)} | {cell(value)} | {cell(goal) if kind == 'goal' else ''} | {verdict} |")
    if status == 0 and not rows:
        summary.append(f"| {name} | | no results recorded | | |")
    command = read(os.path.join(tmp, f"{name}.command")).strip()
    part = [f"## {TITLES[name]}", "", ABOUT[name], "",
            f"Reproduce: `{command}` (after `swift build -c release --product chartsync`; the script builds too). "
            f"This run took {seconds // 60} min {seconds % 60} s"
            + (f" and **failed with exit status {status}**." if status != 0 else "."), "",
            fence(read(os.path.join(tmp, f"{name}.out")) or "(no output)")]
    if status != 0:
        err = err_text.splitlines()[-30:]
        part += ["", "End of its stderr:", "", fence("\n".join(err) or "(nothing)")]
    sections.append("\n".join(part))

lines += ["", "## Summary", ""]
if failures:
    lines += [f"**Failed**: {', '.join(failures)} (see below).", ""]
lines += ["| benchmark | measure | result | goal | verdict |", "|---|---|---|---|---|"] + summary
text = "\n".join(lines) + "\n\n" + "\n\n".join(sections) + "\n"
partial = out + ".partial"
with open(partial, "w") as f:
    f.write(text)
os.replace(partial, out)
print(f"wrote {out}", file=sys.stderr)
PY

if [ "$failed" -ne 0 ]; then
  echo "bench: some benchmarks failed (see $out)" >&2
  exit 1
fi
