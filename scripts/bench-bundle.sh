#!/usr/bin/env bash
# Benchmark: bundling and verifying about 2 GiB of incompressible chart-like data (1,024 files of
# 2 MiB), side by side with the standard tools on the same tree:
#   bundle:  chartsync bundle (zstd)            vs  tar -cf - DIR | zstd -3 -T0
#   verify:  chartsync verify --extract         vs  zstd -dc | tar -x, then sha256sum -c
# Prints medians of RUNS runs (default 3), the ratios against the goals, and chartsync's peak
# memory. Not a test: numbers depend on the machine. Needs about 10 GiB of free disk.
# Exits non-zero when a tool fails; a missed goal fails only with STRICT=1.
#
# Usage: scripts/bench-bundle.sh
#   RUNS=3          runs of every step
#   SIZE_MIB=2048   data size (files of 2 MiB)
#   BENCH_DIR=/tmp  where the work directory goes
#   STRICT=1        exit 1 when a goal is missed
#   BENCH_RESULTS=FILE  also append machine-readable results there (scripts/bench/report.py)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
size_mib="${SIZE_MIB:-2048}"
bin=$PWD/.build/release/chartsync
swift build -c release --product chartsync >/dev/null
work=$(mktemp -d "${BENCH_DIR:-/tmp}/chartsync-bench-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A project: an empty chart list (so versions.lock exists) and the data under charts/custom.
mkdir -p "$work/project/charts/custom/data"
printf 'repositories: []\ncharts: []\n' > "$work/project/chartsync.yaml"
(cd "$work/project" && "$bin" pull -q >/dev/null)
files=$((size_mib / 2))
python3 - "$work/project/charts/custom/data" "$files" <<'PY'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(out, f"chart-{i:04d}.tgz"), "wb") as f:
        f.write(os.urandom(2 << 20))
PY
(cd "$work/project" && find . -type f | LC_ALL=C sort | xargs sha256sum) > "$work/SHA256SUMS"
sync

python3 - "$runs" "$work" "$bin" <<'PY'
import os, shutil, statistics, subprocess, sys, time
sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
sys.path.insert(0, os.path.join(os.getcwd(), "scripts", "bench"))
from report import Report
runs, work, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
project = os.path.join(work, "project")

def timed(argv, cwd=None, shell=False):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, shell=shell, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed ({status}): {argv}")
    return elapsed, usage.ru_maxrss * 1024

def clean(*paths):
    for p in paths:
        if os.path.isdir(p): shutil.rmtree(p)
        elif os.path.exists(p): os.remove(p)

results = {k: [] for k in ["cs_bundle", "tar_zstd", "cs_verify", "zstd_tar_sha"]}
peaks = {"cs_bundle": 0, "cs_verify": 0}
bundle, baseline = os.path.join(work, "b.bundle"), os.path.join(work, "b.tar.zst")
site, plain = os.path.join(work, "site"), os.path.join(work, "plain")
for _ in range(runs):
    clean(bundle, bundle + ".sha256", baseline)
    t, m = timed([binary, "bundle", "-o", bundle], cwd=project); results["cs_bundle"].append(t); peaks["cs_bundle"] = max(peaks["cs_bundle"], m)
    t, _ = timed(f"tar -cf - -C '{project}' . | zstd -q -3 -T0 -o '{baseline}'", shell=True); results["tar_zstd"].append(t)
    clean(site, plain)
    t, m = timed([binary, "verify", bundle, "--extract", site]); results["cs_verify"].append(t); peaks["cs_verify"] = max(peaks["cs_verify"], m)
    os.makedirs(plain)
    t, _ = timed(f"zstd -q -dc '{baseline}' | tar -x -C '{plain}' && cd '{plain}' && sha256sum --quiet -c '{work}/SHA256SUMS'", shell=True)
    results["zstd_tar_sha"].append(t)

med = {k: statistics.median(v) for k, v in results.items()}
size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(project) for f in fs)
mb = lambda b: b / 1048576
print(f"data: {mb(size):.0f} MiB in {project}, incompressible; {runs} runs each, medians (s)")
print(f"{'step':<46}{'median':>8}{'min':>8}{'max':>8}")
names = {"cs_bundle": "chartsync bundle (zstd)", "tar_zstd": "tar -cf - | zstd -3 -T0",
         "cs_verify": "chartsync verify --extract", "zstd_tar_sha": "zstd -dc | tar -x; sha256sum -c"}
for k, v in results.items():
    print(f"{names[k]:<46}{med[k]:>8.2f}{min(v):>8.2f}{max(v):>8.2f}")
report = Report("bundle")
ratio = med['cs_bundle'] / med['tar_zstd']
report.goal("bundle / (tar | zstd)", f"{ratio:.2f}", "at most 1.2", ratio <= 1.2)
ratio = med['cs_verify'] / med['zstd_tar_sha']
report.goal("verify / (zstd | tar + sha256sum)", f"{ratio:.2f}", "at most 1.0", ratio <= 1.0)
peak = max(peaks.values())
report.goal("peak RSS", f"bundle {mb(peaks['cs_bundle']):.1f} MB, verify {mb(peaks['cs_verify']):.1f} MB",
            "under 100 MB", peak < 100 * 1048576)
report.exit_if_strict()
PY
