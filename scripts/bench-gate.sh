#!/usr/bin/env bash
# Benchmark: the CI checksum gate, `chartsync verify -f PROJECT/chartsync.yaml` (verify with no
# bundle argument: every file in charts/external against versions.lock, sha256 and size, hashed
# on all cores, and the lock current for the chart list), against the stock ways of checking the
# same files:
#   - `sha256sum --quiet --strict -c SHA256SUMS` (one process; the SHA256SUMS made beforehand),
#   - `openssl dgst -sha256 FILE...` (one process, all files as arguments),
#   - for context only: the same openssl split over as many processes as there are CPUs.
#
# Data: CHARTS real chart tarballs (Chart.yaml apiVersion v2, values, a template, and a payload
# of CHART_KIB KiB of seeded pseudo-random bytes: incompressible, gzip'd at level 0) made by
# scripts/bench/make-charts.py in a folder repository (PROJECT/repo), indexed by `chartsync
# index`, and vendored by `chartsync pull` into PROJECT/charts/external, the chart list naming
# them all. The project is thus real chartsync output; the repository is deleted before
# measuring, so the gate can only work offline.
#
# Every command runs WARMUP untimed times first (the page cache is warm: this measures hashing,
# not the disk; the warm-up also checks each tool's answer), then RUNS timed runs, interleaved
# tool by tool. Reported: median, min and max wall time; peak RSS from wait4 (ru_maxrss, which
# cannot read below the forking Python's own RSS, about 15 MB: such peaks show as "<="). Then,
# untimed, the gate must exit 1 on a tarball with one byte changed (same size, same mtime) and
# on a chart list asking for a version the lock does not hold, and 0 once both are restored.
# Not a test: numbers depend on the machine. Exits non-zero when anything fails (a tool's exit
# status, a wrong digest, the gate passing a changed file); a missed goal fails only with STRICT=1.
#
# Usage: scripts/bench-gate.sh
#   RUNS=5          timed runs of every command
#   WARMUP=1        untimed runs before them (at least 1: the warm-up checks the answers)
#   CHARTS=500      vendored charts
#   CHART_KIB=2048  random payload of each chart (KiB); tarballs are a few KiB larger
#   STRICT=1        exit 1 when a goal is missed
#   BENCH_DIR=/tmp  where the work directory goes (needs about 2 x CHARTS x CHART_KIB free)
#   GATE_CMD=...    time this shell command (run in the project, $CHARTSYNC is the binary) in
#                   place of the gate; for trying the harness with a chartsync without the gate
#   BENCH_RESULTS=FILE  also append machine-readable results there (see scripts/bench/report.py)
# Needs python3, sha256sum, openssl, xargs; the binary is .build/release/chartsync, built (or
# brought up to date) with `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
charts="${CHARTS:-500}"
chart_kib="${CHART_KIB:-2048}"
gate_cmd="${GATE_CMD:-}"
bin=$PWD/.build/release/chartsync
for tool in python3 sha256sum openssl xargs; do
  command -v "$tool" >/dev/null || { echo "bench-gate: $tool is needed" >&2; exit 2; }
done
if [ "$warmup" -lt 1 ] || [ "$runs" -lt 1 ] || [ "$charts" -lt 1 ] || [ "$chart_kib" -lt 1 ]; then
  echo "bench-gate: RUNS, WARMUP, CHARTS and CHART_KIB must be at least 1" >&2; exit 2
fi
echo "building chartsync (release)..." >&2
swift build -c release --product chartsync >/dev/null

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/chartsync-bench-gate.XXXXXX")
measure_pid=""   # the measuring python (it stops its own child on SIGTERM)
cleanup() {
  if [ -n "$measure_pid" ]; then
    kill "$measure_pid" 2>/dev/null || true
    wait "$measure_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The repository and the vendored copy exist side by side until the pull is done.
need_kib=$(( charts * (chart_kib + 64) * 2 + 65536 ))
have_kib=$(df -Pk "$work" | awk 'NR==2 {print $4}')
if [ "$have_kib" -lt "$need_kib" ]; then
  echo "bench-gate: $work needs $((need_kib / 1024)) MiB free, has $((have_kib / 1024))" >&2; exit 2
fi

echo "making $charts charts of $chart_kib KiB..." >&2
# The repository is a folder inside the project (a relative URL without "..": the lock records
# such URLs with the ".." dropped at the moment).
repo="$work/project/repo"
python3 scripts/bench/make-charts.py sized --repo "$repo" --project "$work/project" \
  --url repo --count "$charts" --kib "$chart_kib" >&2
SOURCE_DATE_EPOCH=1767225600 "$bin" index "$repo" >/dev/null
echo "vendoring them with chartsync pull..." >&2
"$bin" pull -f "$work/project/chartsync.yaml" -q >/dev/null
external="$work/project/charts/external"

# The checksum file for sha256sum -c, written by sha256sum from the vendored files; it must
# agree with the digests the generator computed while writing the tarballs.
(cd "$external" && LC_ALL=C sort "$work/project/files.txt" | xargs sha256sum --) >"$work/SHA256SUMS"
if ! cmp -s "$work/SHA256SUMS" <(LC_ALL=C sort -k2 "$work/project/SHA256SUMS"); then
  echo "bench-gate: the vendored files differ from the generated tarballs" >&2; exit 1
fi
unlisted=$(cd "$external" && find . -mindepth 1 -maxdepth 1 ! -name '.*' ! -name '*.tgz' | head -5)
if [ -n "$unlisted" ]; then
  echo "bench-gate: charts/external holds more than the tarballs: $unlisted" >&2; exit 1
fi
rm -rf "$repo"
rm -f "$work/project/SHA256SUMS" "$work/project/files.txt"
sync

# In the background so that a signal reaches the trap at once, not after the measurements.
python3 -u - "$runs" "$warmup" "$bin" "$work" "$gate_cmd" <<'PY' &
import os, signal, statistics, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
sys.path.insert(0, os.path.join(os.getcwd(), "scripts", "bench"))
from report import Report, stop_child_on_signals

runs, warmup, binary, work, gate_cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
project = os.path.join(work, "project")
external = os.path.join(project, "charts", "external")
sums_file = os.path.join(work, "SHA256SUMS")
sums = {}
with open(sums_file) as f:
    for line in f:
        digest, name = line.split()
        sums[name] = digest
names = sorted(sums)
total = sum(os.path.getsize(os.path.join(external, n)) for n in names)
mib = lambda b: b / 2**20
report = Report("gate")

running = None
stop_child_on_signals(lambda: running)


def run(argv, cwd, env=None, capture=False):
    """Runs argv to the end; returns (exit status, seconds, peak RSS bytes, stdout, stderr)."""
    global running
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = running = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                          stdout=out if capture else subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode, running = os.waitstatus_to_exitcode(status), None
        out.seek(0)
        err.seek(0)
        return proc.returncode, elapsed, usage.ru_maxrss * 1024, out.read().decode(errors="replace"), \
            err.read().decode(errors="replace")


class Case:
    def __init__(self, label, argv, cwd, check=None, env=None, hint=""):
        self.label, self.argv, self.cwd, self.check, self.env, self.hint = label, argv, cwd, check, env, hint
        self.times, self.peaks = [], []

    def run(self, record=True):
        code, elapsed, peak, out, err = self.run_once(capture=not record and self.check is not None)
        if code != 0:
            sys.stderr.write(err[-4000:])
            sys.exit(f"bench-gate: {self.label} failed (exit status {code}){self.hint if code == 2 else ''}")
        if not record and self.check is not None:
            self.check(out)
        if record:
            self.times.append(elapsed)
            self.peaks.append(peak)

    def run_once(self, capture=False):
        return run(self.argv, self.cwd, self.env, capture)

    @property
    def median(self):
        return statistics.median(self.times)


def check_openssl(out):
    """openssl prints `SHA2-256(NAME)= HEX` (or `SHA256(NAME)= HEX`) for every file."""
    seen = {}
    for line in out.splitlines():
        left, _, digest = line.rpartition("= ")
        seen[left[left.index("(") + 1:-1]] = digest.strip()
    if seen != sums:
        wrong = sorted(n for n in set(seen) | set(sums) if seen.get(n) != sums.get(n))
        sys.exit(f"bench-gate: openssl's digests differ from SHA256SUMS for {len(wrong)} file(s): {wrong[:3]}")


chart_list = os.path.join(project, "chartsync.yaml")
if gate_cmd:
    gate = Case(f"GATE_CMD: {gate_cmd}"[:60], ["bash", "-c", gate_cmd], project,
                env=dict(os.environ, CHARTSYNC=binary))
    gate_name = "GATE_CMD"
else:
    gate = Case("chartsync verify -f PROJECT/chartsync.yaml (gate)", [binary, "verify", "-f", chart_list], work,
                hint=": does this chartsync have the gate (`chartsync verify` with no bundle argument)? "
                     "GATE_CMD times another command in its place meanwhile")
    gate_name = "gate"
shasum = Case("sha256sum --quiet --strict -c SHA256SUMS", ["sha256sum", "--quiet", "--strict", "-c", sums_file],
              external)
ossl = Case(f"openssl dgst -sha256 ({len(names)} files, one process)", ["openssl", "dgst", "-sha256", *names],
            external, check=check_openssl)
cpus = os.cpu_count() or 1
per = -(-len(names) // cpus)
ossl_par = Case(f"openssl dgst -sha256, {cpus} processes (xargs -P {cpus})",
                ["bash", "-c", f'printf "%s\\0" "$@" | xargs -0 -P {cpus} -n {per} openssl dgst -sha256', "par",
                 *names], external, check=None)   # two writers into one pipe: lines may interleave
cases = [gate, shasum, ossl, ossl_par]

print(f"warming up ({warmup} untimed run(s) of each)...", file=sys.stderr)
for _ in range(warmup):
    for case in cases:
        case.run(record=False)
for r in range(runs):
    for case in cases:
        case.run()
    print(f"  run {r + 1}/{runs} done", file=sys.stderr)

# wait4 counts the pages a child had before its exec, that is the forking Python's: no peak
# reads below that floor (taken here, before the checks below make this process larger), so a
# peak at the floor is shown as "<=".
floor = run(["true"], work)[2]
rss = lambda peak: f"<={floor / 1e6:.1f}" if peak <= floor else f"{peak / 1e6:.1f}"

# Untimed checks that the gate does its whole job. A changed byte (same size, same mtime) must
# fail it (exit 1); so must a chart list that asks for a version the lock does not hold (the
# real gate only: a stand-in from GATE_CMD may not look at the chart list); with both restored,
# it must pass again.
def altered(path, change):
    """Runs the gate with change(bytes) -> bytes applied to path; restores it (and its times)."""
    st = os.stat(path)
    with open(path, "rb") as f:
        original = f.read()
    try:
        with open(path, "r+b") as f:
            f.write(change(original))
            f.truncate()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return gate.run_once()[0]
    finally:
        with open(path, "wb") as f:
            f.write(original)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


victim = os.path.join(external, names[len(names) // 2])
checks = [(f"{os.path.basename(victim)} with its last byte changed (same size and mtime)",
           altered(victim, lambda data: data[:-1] + bytes([data[-1] ^ 0xFF])))]
if not gate_cmd:
    first_chart = names[0].rsplit("-", 1)[0]
    def ask_other_version(data):
        text = data.decode()
        at = text.index(f"name: {first_chart}\n")
        changed = text[at:].replace('version: "1.0.0"', 'version: "9.9.9"', 1)
        if changed == text[at:]:
            sys.exit(f"bench-gate: cannot find {first_chart}'s version in the chart list")
        return (text[:at] + changed).encode()
    checks.append((f"the chart list asking for {first_chart} 9.9.9 (the lock is stale)",
                   altered(chart_list, ask_other_version)))
restored_code = gate.run_once()[0]

print(f"data: {len(names)} vendored charts of {mib(total / len(names)):.2f} MiB ({mib(total):.1f} MiB in all, "
      f"random payload) in charts/external of a project made by chartsync index + pull; warm page cache; "
      f"{runs} runs each after {warmup} warm-up, seconds; {cpus} CPUs")
print(f"{'command':<62}{'median s':>9}{'min':>8}{'max':>8}{'MB/s':>8}{'/gate':>7}{'peak RSS MB':>13}")
for c in cases:
    print(f"{c.label:<62}{c.median:>9.3f}{min(c.times):>8.3f}{max(c.times):>8.3f}{total / 1e6 / c.median:>8.0f}"
          f"{c.median / gate.median:>7.2f}{rss(max(c.peaks)):>13}")
report.goal(f"sha256sum -c / {gate_name}", f"{shasum.median / gate.median:.2f}", ">= 3",
            shasum.median / gate.median >= 3)
report.goal(f"{gate_name} / openssl dgst", f"{gate.median / ossl.median:.2f}", "<= 1.3",
            gate.median / ossl.median <= 1.3)
report.value(f"context: {gate_name} / openssl dgst on {cpus} processes",
             f"{gate.median / ossl_par.median:.2f}", show=True)
report.value(f"{gate_name} median time", f"{gate.median:.3f} s ({total / 1e6 / gate.median:.0f} MB/s)")
report.value(f"{gate_name} peak RSS", f"{rss(max(gate.peaks))} MB", show=True)
failed = False
for what, code in checks:
    caught = code == 1 if not gate_cmd else code != 0
    failed |= not caught
    print(f"{gate_name} on {what}: exit {code} "
          f"({'caught' if caught else 'NOT CAUGHT: expected ' + ('1' if not gate_cmd else 'a failure')})")
print(f"{gate_name} with everything restored: exit {restored_code}")
if failed or restored_code != 0:
    sys.exit("bench-gate: the gate did not tell the altered project from the clean one")
report.exit_if_strict()
PY
measure_pid=$!
status=0
wait "$measure_pid" || status=$?
measure_pid=""
exit "$status"
