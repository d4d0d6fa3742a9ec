#!/usr/bin/env bash
# Benchmark: reading a large Helm index (about 36 MB of real entries, written by
# ../shared/tools/make-large-index.py). Side by side on the same file: `chartsync search
# --repo file://...` (release build) and PyYAML's C loader. Prints medians of several runs,
# peak memory, and the ratios against the goals. Not a test: numbers depend on the machine.
# Exits non-zero when a tool fails; a missed goal fails only with STRICT=1.
#
# Usage: scripts/bench-index.sh
#   RUNS=5                     runs of each command
#   CHARTSYNC_SHARED=../shared where tools/make-large-index.py is
#   STRICT=1                   exit 1 when a goal is missed
#   BENCH_RESULTS=FILE         also append machine-readable results there (scripts/bench/report.py)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
shared="${CHARTSYNC_SHARED:-../shared}"
bin=.build/release/chartsync
swift build -c release --product chartsync >/dev/null
python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null || python3 -m pip install -q PyYAML

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$shared/tools/make-large-index.py" "$work/index.yaml" >/dev/null
chart=$(grep -m1 -E '^  grafana-r3:' "$work/index.yaml" | tr -d ' :')

python3 - "$runs" "$work/index.yaml" "$bin" "$chart" <<'PY'
import os, statistics, subprocess, sys, time
sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
sys.path.insert(0, os.path.join(os.getcwd(), "scripts", "bench"))
from report import Report
runs, index, binary, chart = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
size = os.path.getsize(index)

def measure(argv):
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss * 1024)
        if status != 0:
            sys.exit(f"{argv[0]} failed with status {status}")
    return statistics.median(times), max(peaks)

repo = "file://" + os.path.dirname(os.path.abspath(index))
cs = measure([binary, "search", "--repo", repo, chart, "--versions"])
py = measure([sys.executable, "-c",
              "import yaml,sys; yaml.load(open(sys.argv[1],'rb'), Loader=yaml.CSafeLoader)", index])
mb = lambda b: b / 1048576
print(f"index: {mb(size):.1f} MB ({index}), chart {chart}, {runs} runs each, medians")
print(f"{'tool':<34}{'time (s)':>10}{'peak RSS (MB)':>16}")
print(f"{'chartsync search (release)':<34}{cs[0]:>10.3f}{mb(cs[1]):>16.1f}")
print(f"{'PyYAML CSafeLoader':<34}{py[0]:>10.3f}{mb(py[1]):>16.1f}")
report = Report("index")
report.goal("time ratio chartsync/PyYAML", f"1/{py[0]/cs[0]:.1f}", "at most 1/15", cs[0] * 15 <= py[0])
report.goal("peak memory / index size", f"{cs[1]/size:.2f}", "under 2", cs[1] / size < 2)
report.value("chartsync search median time", f"{cs[0]:.3f} s (PyYAML {py[0]:.3f} s)")
report.value("chartsync search peak RSS", f"{mb(cs[1]):.1f} MB")
report.exit_if_strict()
PY
