#!/usr/bin/env bash
# Benchmark: `chartsync pull` against what a shell script would do, on one machine, offline.
#
#  1. 200 small charts (5-20 KB, real tarballs) from a local HTTP/1.1 server that waits 50 ms
#     before answering every request (scripts/bench/latency-server.py), side by side with
#       - a sequential loop of `curl -fsS -o` (what a sync-charts.sh of `helm pull` calls does),
#       - one `curl --parallel --parallel-max 16` (and, for context, the same with
#         --parallel-immediate, and --parallel-max 50: curl's default),
#     each fetching index.yaml first and ending with `sha256sum -c` against the index digests,
#     and `chartsync pull --jobs 16` (the default) and `--jobs 50`.
#  2. One 1 GiB chart tarball served by nginx (sendfile, no added latency): `curl -fsS -o file`,
#     for context `curl -o && sync FILE` (an fsync, as chartsync makes its files durable),
#     `curl -o && sha256sum -c` and the same plus `sync FILE`, and `chartsync pull` of that chart
#     (CPU s: user + system time of the command's processes).
#
# Every timed command gets fresh outputs (charts/external and versions.lock deleted); `sync`
# runs before each. Runs are interleaved tool by tool and reported as medians (with min and
# max), peak RSS from wait4 (the largest process of the command's tree). After every chartsync
# run the files in charts/external are hashed again and versions.lock checked.
# Not a test: numbers depend on the machine. Exits non-zero when anything fails (a tool's exit
# status, a digest mismatch, a server not starting); a missed goal fails only with STRICT=1.
#
# Usage: scripts/bench-pull.sh
#   RUNS=5        timed runs of every command (after WARMUP untimed ones; none for the
#                 sequential loop and the big chart)
#   WARMUP=1
#   SMALL=1       0 skips part 1 (the small charts)
#   CHARTS=200    small charts
#   DELAY_MS=50   wait before every answer of the small-chart server
#   BIG_MIB=1024  size of the big chart's payload (0 skips part 2)
#   STRICT=1      exit 1 when a goal is missed
#   COMPARE_BIN="PATH..."  also time other chartsync binaries on the big chart (e.g. a build
#                 from before a change), interleaved with the others
#   BENCH_RESULTS=FILE  also append machine-readable results there (scripts/bench/report.py)
# Needs python3, curl, sha256sum, nginx (NGINX=/path overrides); the binary is
# .build/release/chartsync, built (or brought up to date) with `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
small="${SMALL:-1}"
charts="${CHARTS:-200}"
delay_ms="${DELAY_MS:-50}"
big_mib="${BIG_MIB:-1024}"
nginx="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
bin=.build/release/chartsync
for tool in python3 curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench-pull: $tool is needed" >&2; exit 2; }
done
if [ "$big_mib" -gt 0 ] && [ ! -x "$nginx" ]; then
  echo "bench-pull: nginx is needed for the big chart (NGINX=/path, or BIG_MIB=0)" >&2; exit 2
fi
echo "building chartsync (release)..." >&2
swift build -c release --product chartsync >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pull.XXXXXX")
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

need_kib=$(( (big_mib * 2 + 64) * 1024 ))
have_kib=$(df -Pk "$work" | awk 'NR==2 {print $4}')
if [ "$have_kib" -lt "$need_kib" ]; then
  echo "bench-pull: $work needs $((need_kib / 1024)) MiB free, has $((have_kib / 1024))" >&2; exit 2
fi

mkdir -p "$work/small/repo" "$work/big/repo"

small_url=""
if [ "$small" != 0 ]; then
# The small-chart server picks its own port and writes it once it listens.
python3 scripts/bench/latency-server.py --root "$work/small/repo" \
  --delay "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')" --port-file "$work/small/port" &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/small/port" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "bench-pull: the latency server did not start" >&2; exit 3; }
  sleep 0.1
done
[ -s "$work/small/port" ] || { echo "bench-pull: the latency server did not start" >&2; exit 3; }
small_url="http://127.0.0.1:$(cat "$work/small/port")/"
fi

big_url=""
if [ "$big_mib" -gt 0 ]; then
  # nginx: one process in the foreground, its files under $work/nginx; a free port is picked
  # first (tried again if someone takes it in between).
  mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
  token=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
  echo "$token" >"$work/big/repo/ready.txt"   # proves that the answer comes from this nginx
  for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    types { application/x-yaml yaml; application/gzip tgz; }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server {
        listen 127.0.0.1:$port;
        root $work/big/repo;
    }
}
EOF
    "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" &
    nginx_pid=$!
    pids+=("$nginx_pid")
    up=""
    for _ in $(seq 100); do
      kill -0 "$nginx_pid" 2>/dev/null || break
      if [ "$(curl -s "http://127.0.0.1:$port/ready.txt" || true)" = "$token" ]; then up=1; break; fi
      sleep 0.1
    done
    [ -n "$up" ] && break
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    unset 'pids[-1]'
  done
  if [ -z "$up" ]; then
    echo "bench-pull: nginx did not start:" >&2; cat "$work/nginx/logs/error.log" >&2 || true; exit 3
  fi
  big_url="http://127.0.0.1:$port/"
fi

if [ -n "$small_url" ]; then
  echo "making $charts charts..." >&2
  python3 scripts/bench/make-charts.py small --repo "$work/small/repo" --project "$work/small/project" \
    --url "$small_url" --count "$charts" >&2
fi
if [ "$big_mib" -gt 0 ]; then
  echo "making the big chart ($big_mib MiB)..." >&2
  python3 scripts/bench/make-charts.py big --repo "$work/big/repo" --project "$work/big/project" \
    --url "$big_url" --mib "$big_mib" >&2
fi

# In the background so that a signal reaches the trap at once, not after the measurements.
python3 -u - "$runs" "$warmup" "$bin" "$work" "$small_url" "$big_url" "$delay_ms" "${COMPARE_BIN:-}" <<'PY' &
import hashlib, os, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
sys.path.insert(0, os.path.join(os.getcwd(), "scripts", "bench"))
from report import Report, stop_child_on_signals

runs, warmup, binary, work, small_url, big_url, delay_ms, compare_bin = (
    int(sys.argv[1]), int(sys.argv[2]), os.path.abspath(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6],
    sys.argv[7], sys.argv[8])
mb = lambda b: b / 1e6

SEQUENTIAL = r'''set -euo pipefail
base=$1 out=$2 list=$3 sums=$4
curl -fsS -o "$out/index.yaml" "${base}index.yaml"
while read -r f; do curl -fsS -o "$out/$f" "$base$f"; done < "$list"
cd "$out" && sha256sum --quiet --strict -c "$sums"
'''
PARALLEL = r'''set -euo pipefail
out=$1 max=$2 immediate=$3 index=$4 sums=$5
shift 5
curl -fsS -o "$out/index.yaml" "$index"
curl -fsS --no-progress-meter --parallel $immediate --parallel-max "$max" --output-dir "$out" --remote-name-all "$@"
cd "$out" && sha256sum --quiet --strict -c "$sums"
'''
ONE = r'''set -euo pipefail
out=$1 url=$2 sums=$3 durable=$4
curl -fsS -o "$out/${url##*/}" "$url"
(cd "$out" && sha256sum --quiet --strict -c "$sums")
if [ "$durable" = 1 ]; then sync "$out/${url##*/}"; fi
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


running = None
stop_child_on_signals(lambda: running)


class Case:
    def __init__(self, label, argv, prepare, check=lambda: None):
        self.label, self.argv, self.prepare, self.check = label, argv, prepare, check
        self.times, self.peaks, self.cpus = [], [], []

    def run(self, record=True):
        global running
        self.prepare()
        os.sync()
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = running = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode, running = os.waitstatus_to_exitcode(status), None
            elapsed = time.perf_counter() - start
            if status != 0:
                err.seek(0)
                sys.stderr.write(err.read().decode(errors="replace")[-4000:])
                sys.exit(f"bench-pull: {self.label} failed (exit status {os.waitstatus_to_exitcode(status)})")
        self.check()
        if record:
            self.times.append(elapsed)
            self.peaks.append(usage.ru_maxrss * 1024)
            self.cpus.append(usage.ru_utime + usage.ru_stime)

    @property
    def median(self):
        return statistics.median(self.times)


def chartsync_case(label, project, jobs=None, binary=binary):
    external, lock = os.path.join(project, "charts", "external"), os.path.join(project, "versions.lock")
    sums = read_sums(project)

    def prepare():
        shutil.rmtree(external, ignore_errors=True)
        if os.path.exists(lock):
            os.remove(lock)

    def check():
        found = sorted(n for n in os.listdir(external) if not n.startswith("."))
        if found != sorted(sums):
            sys.exit(f"bench-pull: {label}: charts/external holds {len(found)} files, expected {len(sums)}")
        for name, digest in sums.items():
            actual = sha256(os.path.join(external, name))
            if actual != digest:
                sys.exit(f"bench-pull: {label}: {name} has sha256 {actual}, the index says {digest}")
        text = open(lock).read()
        missing = [n for n, d in sums.items() if d not in text]
        if missing:
            sys.exit(f"bench-pull: {label}: versions.lock does not record {missing[:3]}")

    argv = [binary, "pull", "-f", os.path.join(project, "chartsync.yaml"), "-q"]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    return Case(label, argv, prepare, check)


def measure(cases, skip_warmup=(), warmup=warmup):
    for _ in range(warmup):
        for case in cases:
            if case not in skip_warmup:
                case.run(record=False)
    for r in range(runs):
        for case in cases:
            case.run()
        print(f"  run {r + 1}/{runs} done", file=sys.stderr)


def table(cases, reference):
    print(f"{'tool':<62}{'median s':>9}{'min':>8}{'max':>8}{'/chartsync':>11}{'peak RSS MB':>13}{'CPU s':>7}")
    for c in cases:
        print(f"{c.label:<62}{c.median:>9.3f}{min(c.times):>8.3f}{max(c.times):>8.3f}"
              f"{c.median / reference.median:>11.2f}{mb(max(c.peaks)):>13.1f}{statistics.median(c.cpus):>7.2f}")


report = Report("pull")


print(f"chartsync {binary}; {os.cpu_count()} CPUs; "
      + subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split(" (")[0])

# Part 1: small charts behind 50 ms.
if small_url:
    project = os.path.join(work, "small", "project")
    sums_file, list_file = os.path.join(project, "SHA256SUMS"), os.path.join(project, "files.txt")
    names = open(list_file).read().split()
    total = sum(os.path.getsize(os.path.join(work, "small", "repo", n)) for n in names)
    out = os.path.join(work, "small", "out")
    prep_out = lambda: fresh(out)
    seq = Case("sequential curl loop + sha256sum -c", ["bash", "-c", SEQUENTIAL, "seq", small_url, out, list_file, sums_file],
               prep_out)
    def parallel(n, immediate=False):
        flag = " --parallel-immediate" if immediate else ""
        return Case(f"curl -Z{flag} --parallel-max {n} + sha256sum -c",
                    ["bash", "-c", PARALLEL, "par", out, str(n), flag.strip(), small_url + "index.yaml", sums_file]
                    + [small_url + name for name in names], prep_out)
    par16, par16i, par50 = parallel(16), parallel(16, immediate=True), parallel(50)
    cs16 = chartsync_case("chartsync pull --jobs 16 (default)", project, 16)
    cs50 = chartsync_case("chartsync pull --jobs 50", project, 50)
    small_cases = [seq, par16, par16i, par50, cs16, cs50]
    print(f"measuring {len(names)} charts...", file=sys.stderr)
    measure(small_cases, skip_warmup=(seq,))

    print(f"\n{len(names)} charts ({mb(total):.1f} MB) + index.yaml, {delay_ms} ms before every answer; "
          f"{runs} runs each, seconds (-Z is --parallel)")
    table(small_cases, cs16)
    report.goal("chartsync vs sequential loop", f"{seq.median / cs16.median:.1f}x faster", ">= 6",
                seq.median / cs16.median >= 6)
    report.goal("chartsync / curl --parallel (both 16 at once)", f"{cs16.median / par16.median:.2f}", "<= 1.2",
                cs16.median / par16.median <= 1.2)
    print(f"context: chartsync --jobs 16 / curl -Z --parallel-immediate --parallel-max 16: "
          f"{cs16.median / par16i.median:.2f}; chartsync --jobs 50 / curl -Z --parallel-max 50: "
          f"{cs50.median / par50.median:.2f}")
    print(f"chartsync peak RSS: {mb(max(cs16.peaks)):.1f} MB (--jobs 16), {mb(max(cs50.peaks)):.1f} MB (--jobs 50)")
    report.value(f"{len(names)} charts: chartsync pull median time", f"{cs16.median:.3f} s")
    report.value(f"{len(names)} charts: chartsync peak RSS", f"{mb(max(cs16.peaks)):.1f} MB")

# Part 2: one big chart from nginx.
if big_url:
    project = os.path.join(work, "big", "project")
    sums_file = os.path.join(project, "SHA256SUMS")
    (name, digest), = read_sums(project).items()
    size = os.path.getsize(os.path.join(work, "big", "repo", name))
    out = os.path.join(work, "big", "out")
    def check_size():
        if os.path.getsize(os.path.join(out, name)) != size:
            sys.exit(f"bench-pull: curl -o wrote {os.path.getsize(os.path.join(out, name))} bytes, expected {size}")
    def prep_big():
        fresh(out)
    curl_o = Case("curl -fsS -o file", ["curl", "-fsS", "-o", os.path.join(out, name), big_url + name],
                  prep_big, check_size)
    curl_o_sync = Case("curl -o + sync FILE (fsync)", ["bash", "-c", 'curl -fsS -o "$1" "$2" && sync "$1"', "one",
                                                      os.path.join(out, name), big_url + name], prep_big, check_size)
    curl_sha = Case("curl -o + sha256sum -c", ["bash", "-c", ONE, "one", out, big_url + name, sums_file, "0"],
                    prep_big)
    curl_sync = Case("curl -o + sha256sum -c + sync FILE (fsync)",
                     ["bash", "-c", ONE, "one", out, big_url + name, sums_file, "1"], prep_big)
    csbig = chartsync_case("chartsync pull (download + hash + check)", project)
    big_cases = [curl_o, curl_o_sync, curl_sha, curl_sync, csbig]
    for other in compare_bin.split():
        big_cases.append(chartsync_case(f"chartsync pull, {other}", project, binary=os.path.abspath(other)))
    print(f"measuring the big chart...", file=sys.stderr)
    measure(big_cases, warmup=0)   # the tarball was just written: it is in the page cache
    for c in big_cases:   # leave no GiB behind between parts
        c.prepare()
    print(f"\n{name}: {size / 2**30:.2f} GiB from nginx (sendfile, no added latency); {runs} runs each, seconds")
    table(big_cases, csbig)
    report.goal(f"{size / 2**30:.2f} GiB: chartsync / curl -o", f"{csbig.median / curl_o.median:.2f}", "<= 1.3",
                csbig.median / curl_o.median <= 1.3)
    print(f"context: chartsync / (curl -o + fsync): {csbig.median / curl_o_sync.median:.2f}, "
          f"/ (curl -o + sha256sum): {csbig.median / curl_sha.median:.2f}, "
          f"/ (curl -o + sha256sum + fsync): {csbig.median / curl_sync.median:.2f}")
    print(f"chartsync peak RSS: {mb(max(csbig.peaks)):.1f} MB ({100 * max(csbig.peaks) / size:.1f}% of the tarball's size)")
    report.value(f"{size / 2**30:.2f} GiB: chartsync peak RSS", f"{mb(max(csbig.peaks)):.1f} MB")

report.exit_if_strict()
PY
measure_pid=$!
status=0
wait "$measure_pid" || status=$?
measure_pid=""
exit "$status"
