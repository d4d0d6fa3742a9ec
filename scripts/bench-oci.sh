#!/usr/bin/env bash
# Benchmark: `chartsync pull` from an oci:// registry against Helm and curl, on one machine, offline
# (issue 12).
#
# 200 small charts (5-20 KB, real tarballs from scripts/bench/make-charts.py) pushed by Helm
# (helm_python.registry.push, as `helm push` does) into Debian's docker-registry on 127.0.0.1,
# which every tool reaches only through scripts/bench/latency-server.py --upstream: a reverse
# proxy that waits 50 ms before forwarding every request (keep-alive on both sides). Side by side:
#   - Helm pulling the charts one by one, the way a sync script loops over `helm pull
#     oci://HOST/charts/NAME --version 1.0.0`, but in one Python process calling
#     helm_python.registry.pull (Helm 4's Go SDK; the wheel carries no helm binary) 200 times,
#     so that Python's start-up is paid once, not per chart; then `sha256sum -c`;
#   - `curl --parallel --parallel-max 16` over the 200 blob URLs
#     (/v2/charts/NAME/blobs/sha256:...) only: the floor for moving the bytes, knowing the
#     digests in advance (taken from the registry before measuring), then `sha256sum -c`;
#   - `curl --parallel --parallel-max 16` over the same requests chartsync makes per chart: the
#     manifest by tag (Accept: the OCI manifest type) and the blob (the chart list names exact
#     versions, so chartsync, like `helm pull --version`, lists no tags); all 400 in one batch
#     (curl need not wait for one answer to make the next request, chartsync must), then
#     `sha256sum -c`; the script fails if chartsync's requests differ from these;
#   - for context, the same with `Connection: close` (a new connection for every request, as
#     chartsync's libcurl client makes them: it keeps no connection between requests);
#   - `chartsync pull --jobs 16` (the default) of a chart list naming the registry as
#     `oci://127.0.0.1:PORT/charts` with `plainHTTP: true`; for context `--jobs 50` and curl's
#     same requests with --parallel-max 50.
# The proxy counts what it forwards and the connections it came over: listed per tool for one run.
#
# Every timed command gets fresh outputs (for chartsync: charts/external and versions.lock
# deleted); `sync` runs before each. Runs are interleaved tool by tool and reported as medians
# (with min and max); peak RSS from wait4 (the largest process of the command's tree). After
# every chartsync run the files in charts/external are hashed again and versions.lock checked.
# Not a test: numbers depend on the machine. Exits non-zero when anything fails (a tool's exit
# status, a digest mismatch, a server not starting); a missed goal fails only with STRICT=1.
#
# Usage: scripts/bench-oci.sh
#   RUNS=5        timed runs of every command but Helm's loop (after WARMUP untimed ones)
#   WARMUP=1
#   HELM_RUNS=3   timed runs of Helm's loop (no warm-up; about 30 s each with the defaults)
#   CHARTS=200    charts
#   DELAY_MS=50   wait before every request the proxy forwards
#   JOBS=16       chartsync's --jobs and curl's --parallel-max for the goals
#   STRICT=1      exit 1 when a goal is missed
#   BENCH_RESULTS=FILE  also append machine-readable results there (scripts/bench/report.py)
# Needs python3 with helm_python (PyPI's helm-python-sdk, `make deps`), curl, sha256sum,
# docker-registry (REGISTRY=/path overrides); the binary is .build/release/chartsync, built (or
# brought up to date) with `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
helm_runs="${HELM_RUNS:-3}"
charts="${CHARTS:-200}"
delay_ms="${DELAY_MS:-50}"
jobs="${JOBS:-16}"
registry="${REGISTRY:-$(command -v docker-registry || echo /usr/bin/docker-registry)}"
bin=.build/release/chartsync
for tool in python3 curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench-oci: $tool is needed" >&2; exit 2; }
done
[ -x "$registry" ] || { echo "bench-oci: docker-registry is needed (REGISTRY=/path)" >&2; exit 2; }
python3 -c 'import helm_python.registry' 2>/dev/null \
  || { echo "bench-oci: python3 cannot import helm_python (pip install helm-python-sdk, or make deps)" >&2; exit 2; }
echo "building chartsync (release)..." >&2
swift build -c release --product chartsync >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-oci.XXXXXX")
pids=()          # servers
measure_pid=""   # the measuring python (it stops its own child on SIGTERM)
cleanup() {
  local pid
  if [ -n "$measure_pid" ]; then
    kill "$measure_pid" 2>/dev/null || true
    wait "$measure_pid" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The registry: anonymous, plain HTTP, filesystem storage under $work; a free port is picked
# first (tried again if someone takes it in between).
mkdir -p "$work/registry"
up=""
for attempt in 1 2 3 4 5; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:$port
  secret: chartsync-bench
EOF
  "$registry" serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
  registry_pid=$!
  pids+=("$registry_pid")
  for _ in $(seq 100); do
    kill -0 "$registry_pid" 2>/dev/null || break
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)" = 200 ]; then up=1; break; fi
    sleep 0.1
  done
  [ -n "$up" ] && break
  kill "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  unset 'pids[-1]'
done
if [ -z "$up" ]; then
  echo "bench-oci: docker-registry did not start:" >&2; tail -n 20 "$work/registry/log" >&2 || true; exit 3
fi
registry_host="127.0.0.1:$port"

# The proxy every tool goes through picks its own port and writes it once it listens.
python3 scripts/bench/latency-server.py --upstream "http://$registry_host" \
  --delay "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')" --port-file "$work/proxy.port" &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/proxy.port" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "bench-oci: the latency proxy did not start" >&2; exit 3; }
  sleep 0.1
done
[ -s "$work/proxy.port" ] || { echo "bench-oci: the latency proxy did not start" >&2; exit 3; }
proxy_host="127.0.0.1:$(cat "$work/proxy.port")"

echo "making $charts charts..." >&2
python3 scripts/bench/make-charts.py small --repo "$work/repo" --project "$work/project" \
  --url "oci://$proxy_host/charts" --plain-http --count "$charts" >&2
echo "pushing them with Helm (straight to the registry, no added latency)..." >&2
python3 - "$work/repo" "$work/project/files.txt" "$registry_host" <<'PY' >&2
import os, sys
import helm_python.registry as registry
repo, files, host = sys.argv[1:]
for name in open(files).read().split():
    registry.push(os.path.join(repo, name), f"oci://{host}/charts", plain_http=True)
PY

# In the background so that a signal reaches the trap at once, not after the measurements.
python3 -u - "$runs" "$warmup" "$helm_runs" "$jobs" "$bin" "$work" "$registry_host" "$proxy_host" "$delay_ms" <<'PY' &
import hashlib, json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
sys.path.insert(0, os.path.join(os.getcwd(), "scripts", "bench"))
from report import Report, stop_child_on_signals

runs, warmup, helm_runs, jobs = (int(a) for a in sys.argv[1:5])
binary, work, registry_host, proxy_host, delay_ms = (os.path.abspath(sys.argv[5]), *sys.argv[6:10])
mb = lambda b: b / 1e6
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

HELM = r'''set -euo pipefail
out=$1 host=$2 list=$3 sums=$4
python3 - "$out" "$host" "$list" <<'LOOP'
import sys
import helm_python.registry as registry
out, host, names = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split()
for name in names:
    chart = name[:-len("-1.0.0.tgz")]
    registry.pull(f"oci://{host}/charts/{chart}", version="1.0.0", destination=out, plain_http=True)
LOOP
cd "$out" && sha256sum --quiet --strict -c "$sums"
'''
PARALLEL = r'''set -euo pipefail
out=$1 max=$2 config=$3 sums=$4
curl -fsS --no-progress-meter --parallel --parallel-max "$max" --output-dir "$out" -K "$config"
cd "$out" && sha256sum --quiet --strict -c "$sums"
'''


def read_sums(project):
    sums = {}
    with open(os.path.join(project, "SHA256SUMS")) as f:
        for line in f:
            digest, name = line.split()
            sums[name] = digest
    return sums


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def forwarded():
    """What the proxy has forwarded so far, by kind ("GET blobs": n, ...)."""
    with urllib.request.urlopen(f"http://{proxy_host}/_latency/requests") as response:
        return json.load(response)


running = None
stop_child_on_signals(lambda: running)


class Case:
    def __init__(self, label, argv, prepare, check=lambda: None):
        self.label, self.argv, self.prepare, self.check = label, argv, prepare, check
        self.times, self.peaks = [], []
        self.requests = {}   # what the proxy forwarded during the last run, by kind

    def run(self, record=True):
        global running
        self.prepare()
        os.sync()
        before = forwarded()
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = running = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode, running = os.waitstatus_to_exitcode(status), None
            elapsed = time.perf_counter() - start
            if status != 0:
                err.seek(0)
                sys.stderr.write(err.read().decode(errors="replace")[-4000:])
                sys.exit(f"bench-oci: {self.label} failed (exit status {os.waitstatus_to_exitcode(status)})")
        after = forwarded()
        self.requests = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        self.check()
        if record:
            self.times.append(elapsed)
            self.peaks.append(usage.ru_maxrss * 1024)

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def request_text(self):
        requests = ", ".join(f"{n} {k}" for k, n in sorted(self.requests.items()) if k != "connections") or "none"
        return f"{requests} over {self.requests.get('connections', 0)} connections"


project = os.path.join(work, "project")
sums_file, list_file = os.path.join(project, "SHA256SUMS"), os.path.join(project, "files.txt")
names = open(list_file).read().split()
sums = read_sums(project)
total = sum(os.path.getsize(os.path.join(work, "repo", n)) for n in names)
out = os.path.join(work, "out")
prep_out = lambda: fresh(out)

# The digests, from the registry itself (not timed, no added latency): every chart's layer must
# be the tarball make-charts.py wrote.
layers = {}
for name in names:
    chart = name[:-len("-1.0.0.tgz")]
    request = urllib.request.Request(f"http://{registry_host}/v2/charts/{chart}/manifests/1.0.0",
                                     headers={"Accept": MANIFEST})
    with urllib.request.urlopen(request) as response:
        manifest = json.load(response)
    layer = manifest["layers"][0]["digest"]
    if layer != "sha256:" + sums[name]:
        sys.exit(f"bench-oci: the registry holds {chart}'s layer as {layer}, the tarball is sha256:{sums[name]}")
    layers[chart] = layer


def curl_config(path, same_requests, close=False):
    lines = [f'header = "Accept: {MANIFEST}"'] if same_requests else []
    lines += ['header = "Connection: close"'] if close else []
    for name in names:
        chart = name[:-len("-1.0.0.tgz")]
        base = f"http://{proxy_host}/v2/charts/{chart}/"
        if same_requests:
            lines += [f'url = "{base}manifests/1.0.0"', f'output = "{chart}.manifest.json"']
        lines += [f'url = "{base}blobs/{layers[chart]}"', f'output = "{name}"']
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


blobs_config = curl_config(os.path.join(work, "blobs.curlrc"), same_requests=False)
same_config = curl_config(os.path.join(work, "same.curlrc"), same_requests=True)
close_config = curl_config(os.path.join(work, "close.curlrc"), same_requests=True, close=True)


def curl_case(label, n, config):
    return Case(label, ["bash", "-c", PARALLEL, "par", out, str(n), config, sums_file], prep_out)


def chartsync_case(label, n):
    external, lock = os.path.join(project, "charts", "external"), os.path.join(project, "versions.lock")

    def prepare():
        shutil.rmtree(external, ignore_errors=True)
        if os.path.exists(lock):
            os.remove(lock)

    def check():
        found = sorted(n for n in os.listdir(external) if not n.startswith("."))
        if found != sorted(sums):
            sys.exit(f"bench-oci: {label}: charts/external holds {len(found)} files, expected {len(sums)}")
        for name, digest in sums.items():
            actual = sha256(os.path.join(external, name))
            if actual != digest:
                sys.exit(f"bench-oci: {label}: {name} has sha256 {actual}, the tarball pushed was {digest}")
        text = open(lock).read()
        missing = [n for n, d in sums.items() if d not in text]
        if missing:
            sys.exit(f"bench-oci: {label}: versions.lock does not record {missing[:3]}")

    return Case(label, [binary, "pull", "-f", os.path.join(project, "chartsync.yaml"), "-q", "--jobs", str(n)],
                prepare, check)


helm = Case(f"helm pull one by one (one process, {len(names)} SDK calls) + sha256sum -c",
            ["bash", "-c", HELM, "helm", out, proxy_host, list_file, sums_file], prep_out)
blobs = curl_case(f"curl -Z --parallel-max {jobs}, blob URLs only + sha256sum -c", jobs, blobs_config)
same = curl_case(f"curl -Z --parallel-max {jobs}, manifest+blob + sha256sum -c", jobs, same_config)
close = curl_case(f"curl -Z --parallel-max {jobs}, manifest+blob, Connection: close + sha256sum -c", jobs,
                  close_config)
same50 = curl_case("curl -Z --parallel-max 50, manifest+blob + sha256sum -c", 50, same_config)
cs = chartsync_case(f"chartsync pull --jobs {jobs}" + (" (default)" if jobs == 16 else ""), jobs)
cs50 = chartsync_case("chartsync pull --jobs 50", 50)
cases = [blobs, same, close, same50, cs, cs50]

print(f"chartsync {binary}; {os.cpu_count()} CPUs; "
      + subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split(" (")[0]
      + "; Helm 4 SDK from helm_python (PyPI helm-python-sdk)")
print(f"measuring {len(names)} charts...", file=sys.stderr)
for _ in range(warmup):
    for case in cases:
        case.run(record=False)
for r in range(max(runs, helm_runs)):
    if r < helm_runs:
        helm.run()
    if r < runs:
        for case in cases:
            case.run()
    print(f"  run {r + 1}/{max(runs, helm_runs)} done", file=sys.stderr)

everything = [helm] + cases
print(f"\n{len(names)} charts ({mb(total):.1f} MB) in docker-registry behind a proxy waiting {delay_ms} ms "
      f"before every request; {runs} runs each ({helm_runs} of Helm's loop), seconds (-Z is --parallel)")
print(f"{'tool':<76}{'median s':>9}{'min':>8}{'max':>8}{'/chartsync':>11}{'peak RSS MB':>13}")
for c in everything:
    print(f"{c.label:<76}{c.median:>9.3f}{min(c.times):>8.3f}{max(c.times):>8.3f}"
          f"{c.median / cs.median:>11.2f}{mb(max(c.peaks)):>13.1f}")
print("\nrequests forwarded by the proxy in one run:")
for c in everything:
    print(f"  {c.label}: {c.request_text}")
kinds = lambda c: {k: n for k, n in c.requests.items() if k != "connections"}
for c in (cs, cs50):
    if kinds(c) != kinds(same):
        sys.exit(f"bench-oci: {c.label} made other requests ({c.request_text}) than curl's same-requests variant "
                 f"({same.request_text}): make the curl variant match")

report = Report("oci")
report.goal(f"chartsync vs helm pull one by one", f"{helm.median / cs.median:.1f}x faster", ">= 10",
            helm.median / cs.median >= 10)
report.goal(f"chartsync / curl --parallel (same requests: manifest + blob per chart, both {jobs} at once)",
            f"{cs.median / same.median:.2f}", "<= 1.3", cs.median / same.median <= 1.3)
print(f"context: chartsync / curl -Z over the blob URLs only (half the requests, digests known in advance): "
      f"{cs.median / blobs.median:.2f}; chartsync --jobs 50 / curl -Z --parallel-max 50 (same requests): "
      f"{cs50.median / same50.median:.2f}; chartsync / curl -Z --parallel-max {jobs} with Connection: close "
      f"(same requests, a connection each): {cs.median / close.median:.2f}")
print(f"chartsync peak RSS: {mb(max(cs.peaks)):.1f} MB (--jobs {jobs}), {mb(max(cs50.peaks)):.1f} MB (--jobs 50)")
report.value(f"chartsync / curl --parallel over the {len(names)} blob URLs only (context)", f"{cs.median / blobs.median:.2f}")
report.value(f"chartsync / curl --parallel, same requests, Connection: close (context)", f"{cs.median / close.median:.2f}")
report.value(f"chartsync --jobs 50 vs helm pull one by one (context)", f"{helm.median / cs50.median:.1f}x faster")
report.value(f"{len(names)} oci charts: chartsync pull median time", f"{cs.median:.3f} s")
report.value(f"{len(names)} oci charts: helm pull one by one median time", f"{helm.median:.3f} s")
report.value(f"{len(names)} oci charts: chartsync peak RSS", f"{mb(max(cs.peaks)):.1f} MB")
report.exit_if_strict()
PY
measure_pid=$!
status=0
wait "$measure_pid" || status=$?
measure_pid=""
exit "$status"
