#!/usr/bin/env bash
# Benchmark: `chartsync push` of the image set against skopeo and curl (issue 14): the push part of
# scripts/bench-images.sh, which describes it and its knobs (RUNS, WARMUP, IMAGES, IMAGES_MIB,
# DELAY_MS, JOBS, REGISTRY, STRICT, TMPDIR, BENCH_RESULTS). The store it pushes is pulled first by
# `chartsync images --pull` (untimed); no big layer is made.
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=push BIG_MIB=0 DIRECT=0 exec bash scripts/bench-images.sh
