#!/usr/bin/env python3
"""The measuring half of scripts/bench-images.sh (which describes what is measured and its knobs):
starts the registries and latency proxies, makes the image set (make-images.py), runs the tools
interleaved, checks their results, prints the tables and records the goals (report.py)."""
import argparse
import atexit
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from report import Report, stop_child_on_signals  # noqa: E402

parser = argparse.ArgumentParser()
for name, kind in [("work", str), ("registry", str), ("parts", str), ("runs", int), ("warmup", int), ("images", int),
                   ("images-mib", int), ("big-mib", int), ("delay-ms", int), ("jobs", int), ("direct", int)]:
    parser.add_argument("--" + name, type=kind, required=True)
args = parser.parse_args()
parts = set(args.parts.replace(",", " ").split())
if not parts or parts - {"images", "push"}:
    sys.exit(f"bench-images: PARTS must name images and/or push, not {args.parts!r}")
work, jobs = args.work, args.jobs
binary = os.path.abspath(".build/release/chartsync")
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
mb = lambda b: b / 1e6
mib = lambda b: b / 1048576

# ---------------------------------------------------------------------------- servers

servers = []   # every registry and proxy started, stopped at exit


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@atexit.register
def stop_all():
    for proc in servers:
        stop(proc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_registry(root):
    """A docker-registry (anonymous, plain HTTP, storage under root); returns (process, host)."""
    os.makedirs(root, exist_ok=True)
    for _ in range(5):
        port = free_port()
        config = os.path.join(root, "config.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}/storage
  delete:
    enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: chartsync-bench
""")
        log = open(os.path.join(root, "log"), "w")
        proc = subprocess.Popen([args.registry, "serve", config], stdout=log, stderr=subprocess.STDOUT)
        servers.append(proc)
        for _ in range(100):
            if proc.poll() is not None:
                break
            if answers(f"http://127.0.0.1:{port}/v2/"):
                return proc, f"127.0.0.1:{port}"
            time.sleep(0.1)
        stop(proc)
    sys.exit(f"bench-images: docker-registry did not start: {open(os.path.join(root, 'log')).read()[-2000:]}")


def start_proxy(upstream, port_file):
    """latency-server.py in front of upstream; returns (process, host)."""
    if os.path.exists(port_file):
        os.remove(port_file)
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "latency-server.py"), "--upstream", f"http://{upstream}",
                             "--delay", f"{args.delay_ms / 1000:.3f}", "--port-file", port_file])
    servers.append(proc)
    for _ in range(100):
        if os.path.exists(port_file):
            return proc, f"127.0.0.1:{open(port_file).read().strip()}"
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    sys.exit("bench-images: the latency proxy did not start")


def forwarded(proxy):
    with urllib.request.urlopen(f"http://{proxy}/_latency/requests") as response:
        return json.load(response)


# ---------------------------------------------------------------------------- running tools

running = None
stop_child_on_signals(lambda: running)


def run(argv, label, cwd=None):
    """Runs argv (output to the void, stderr kept for a failure); returns (seconds, peak RSS)."""
    global running
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = running = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode, running = os.waitstatus_to_exitcode(status), None
        elapsed = time.perf_counter() - start
        if status != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace")[-4000:])
            sys.exit(f"bench-images: {label} failed (exit status {proc.returncode})")
    return elapsed, usage.ru_maxrss * 1024


def quiet(argv, cwd=None):
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-images: {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


class Case:
    """One command measured: prepare (untimed), run (timed), check (untimed)."""

    def __init__(self, label, argv, prepare=lambda: None, check=lambda: None, cwd=None, proxy=None):
        self.label, self.argv, self.prepare, self.check, self.cwd = label, argv, prepare, check, cwd
        self.proxy = proxy    # a function giving the proxy host the command goes through, if any
        self.times, self.peaks = [], []
        self.requests = {}    # what the proxy forwarded during the last run, by kind

    def run(self, record=True):
        self.prepare()
        os.sync()
        proxy = self.proxy() if self.proxy else None
        before = forwarded(proxy) if proxy else {}
        elapsed, peak = run(self.argv, self.label, self.cwd)
        if proxy:
            after = forwarded(proxy)
            self.requests = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        self.check()
        if record:
            self.times.append(elapsed)
            self.peaks.append(peak)

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def request_text(self):
        requests = ", ".join(f"{n} {k}" for k, n in sorted(self.requests.items()) if k != "connections") or "none"
        return f"{requests} over {self.requests.get('connections', 0)} connections"


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def remove(*paths):
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def table(title, cases, base):
    print(f"\n{title}")
    print(f"{'tool':<88}{'median s':>9}{'min':>8}{'max':>8}{'/chartsync':>11}{'peak RSS MB':>13}")
    for c in cases:
        print(f"{c.label:<88}{c.median:>9.3f}{min(c.times):>8.3f}{max(c.times):>8.3f}"
              f"{c.median / base.median:>11.2f}{mb(max(c.peaks)):>13.1f}")


# ---------------------------------------------------------------------------- the data

print(f"bench-images: source registry and proxy; making {args.images} images of {args.images_mib} MiB"
      + (f" and a {args.big_mib} MiB layer" if args.big_mib else "") + "...", file=sys.stderr)
_, source = start_registry(os.path.join(work, "source"))
source_proxy_proc, source_proxy = start_proxy(source, os.path.join(work, "source-proxy.port"))
started = time.monotonic()
set_file = os.path.join(work, "set.json")
subprocess.run([sys.executable, os.path.join(HERE, "make-images.py"), "--registry", source, "--total-mib",
                str(args.images_mib), "--images", str(args.images), "--big-mib", str(args.big_mib), "--tmp", work,
                "--out", set_file], check=True, stdout=sys.stderr)
made_in = time.monotonic() - started
data = json.load(open(set_file))
images, big = data["images"], data["big"]
blobs = {}   # digest -> (size, the first repository that has it)
for image in images:
    for blob in image["blobs"]:
        blobs.setdefault(blob["digest"], (blob["size"], image["repository"]))
layer_bytes = sum(size for size, _ in blobs.values())
manifest_bytes = sum(image["size"] for image in images)
expected = {d.split(":")[1] for d in blobs} | {image["digest"].split(":")[1] for image in images}


def make_project(path, host, chosen):
    """A project whose chart list names `chosen` images on `host` (plain HTTP) and no charts;
    versions.lock from `chartsync pull`, images.lock pinned by `chartsync images --resolve`."""
    os.makedirs(path)
    refs = [f"{host}/{image['repository']}:{image['tag']}" for image in chosen]
    with open(os.path.join(path, "chartsync.yaml"), "w") as f:
        f.write("repositories: []\ncharts: []\nimages:\n  extra:\n" + "".join(f"    - {r}\n" for r in refs)
                + f"  registries:\n    - host: {host}\n      plainHTTP: true\n")
    quiet([binary, "pull", "-q"], cwd=path)
    quiet([binary, "images", "--resolve", "-q"], cwd=path)
    lock = open(os.path.join(path, "images.lock")).read()
    for image in chosen:
        if image["digest"] not in lock:
            sys.exit(f"bench-images: images.lock of {path} does not pin {image['repository']} at {image['digest']}")
    return refs


project = os.path.join(work, "project")          # through the latency proxy
refs = make_project(project, source_proxy, images)
store = os.path.join(project, "images")


def check_store(path, label, hash_all):
    """The layout at `path` holds exactly the expected blobs, each of its size (and hashing to
    its name when hash_all)."""
    directory = os.path.join(path, "blobs", "sha256")
    found = {n for n in os.listdir(directory) if not n.startswith(".")}
    if found != expected:
        sys.exit(f"bench-images: {label}: {path} holds {len(found)} blobs, {len(found - expected)} unexpected, "
                 f"{len(expected - found)} missing (expected {len(expected)})")
    for digest, (size, _) in blobs.items():
        if os.path.getsize(os.path.join(directory, digest.split(":")[1])) != size:
            sys.exit(f"bench-images: {label}: {digest} is not {size} bytes")
    if hash_all:
        for name in found:
            if sha256(os.path.join(directory, name)) != name:
                sys.exit(f"bench-images: {label}: blobs/sha256/{name} does not hash to its name")


hashed = set()   # labels whose results were hashed once (later runs check names and sizes)


def checked_store(path, label):
    def check():
        check_store(path, label, label not in hashed)
        hashed.add(label)
    return check


# The curl config: the same requests as chartsync makes (the manifests by digest, each distinct
# blob once), in one batch.
def curl_config(name, host):
    lines = [f'header = "Accept: {MANIFEST}"']
    for image in images:
        lines += [f'url = "http://{host}/v2/{image["repository"]}/manifests/{image["digest"]}"',
                  f'output = "{image["digest"].split(":")[1]}"']
    for digest, (_, repository) in blobs.items():
        lines += [f'url = "http://{host}/v2/{repository}/blobs/{digest}"', f'output = "{digest.split(":")[1]}"']
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


sums = os.path.join(work, "SHA256SUMS")
with open(sums, "w") as f:
    f.writelines(f"{name}  {name}\n" for name in sorted(expected))
store_sums = os.path.join(work, "STORE.SHA256SUMS")   # as sha256sum -c reads them inside images/
with open(store_sums, "w") as f:
    f.writelines(f"{name}  blobs/sha256/{name}\n" for name in sorted(expected))

CURL_PULL = r'''set -euo pipefail
out=$1 max=$2 config=$3 sums=$4
curl -fsS --no-progress-meter --parallel --parallel-max "$max" --output-dir "$out" -K "$config"
cd "$out" && sha256sum --quiet --strict -c "$sums"
'''
SKOPEO_PULL = r'''set -euo pipefail
out=$1; shift
for ref in "$@"; do
  skopeo copy -q --all --src-tls-verify=false "docker://$ref" "oci:$out:$ref" >/dev/null
done
'''
SKOPEO_PUSH = r'''set -euo pipefail
store=$1 target=$2; shift 2
for ref in "$@"; do   # ref: HOST/REPOSITORY:TAG as the store names it
  skopeo copy -q --all --dest-tls-verify=false "oci:$store:$ref" "docker://$target/${ref#*/}" >/dev/null
done
'''
# curl's push: blobs (POST, then PUT ?digest= with the file), mounts, manifests; each phase
# JOBS at once (xargs -P), as chartsync sends JOBS blobs at once.
CURL_PUSH_WORKER = r'''set -euo pipefail
host=$1 what=$2; shift 2
case "$what" in
  blob)   # DIGEST REPOSITORY FILE
    location=$(curl -fsS -o /dev/null -X POST -w '%header{location}' "http://$host/v2/$2/blobs/uploads/")
    case "$location" in /*) location="http://$host$location" ;; esac
    case "$location" in *\?*) sep='&' ;; *) sep='?' ;; esac
    curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$3" "$location${sep}digest=$1" ;;
  mount)  # DIGEST REPOSITORY FROM
    code=$(curl -fsS -o /dev/null -X POST -w '%{http_code}' "http://$host/v2/$2/blobs/uploads/?mount=$1&from=$3")
    [ "$code" = 201 ] || { echo "mount of $1 into $2 answered $code" >&2; exit 1; } ;;
  manifest)   # REPOSITORY TAG FILE
    curl -fsS -o /dev/null -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" -T "$3" \
      "http://$host/v2/$1/manifests/$2" ;;
esac
'''
CURL_PUSH = r'''set -euo pipefail
host=$1 jobs=$2 dir=$3
for phase in blobs mounts manifests; do
  what=${phase%s}
  xargs -P "$jobs" -n 3 bash "$dir/curl-push-worker.sh" "$host" "$what" <"$dir/$phase.txt"
done
'''

results = Report("images" if parts == {"images"} else "push" if parts == {"push"} else "images")
push_report = Report("push") if "images" in parts and "push" in parts else results
print(f"chartsync {binary}; {os.cpu_count()} CPUs; "
      + subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split(" (")[0]
      + "; " + subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()
      + "; zstd " + next((w.strip(",") for w in subprocess.run(["zstd", "--version"], capture_output=True,
                                                                 text=True).stdout.split() if w.startswith("v1")), "?"))
print(f"data: {len(images)} OCI images, {len(blobs)} distinct blobs ({mib(layer_bytes):.0f} MiB) and "
      f"{len(images)} manifests; {sum(len(i['blobs']) for i in images)} blob references (base layers shared by "
      f"{len(images) // 4 if len(images) >= 4 else 1} images each)"
      + (f"; one image with a {mib(big['blobs'][1]['size']):.0f} MiB layer" if big else "")
      + f"; made and pushed in {made_in:.0f} s")
print(f"the latency proxy waits {args.delay_ms} ms before forwarding every request; {args.runs} runs after "
      f"{args.warmup} warm-up; -Z is curl --parallel; JOBS={jobs}")

# ---------------------------------------------------------------------------- issue 13: pull, bundle, verify

if "images" in parts:
    out = os.path.join(work, "out")
    cases = []
    skopeo_pull = Case("skopeo copy --all docker:// oci:DIR:REF, one image at a time",
                       ["bash", "-c", SKOPEO_PULL, "skopeo", out] + refs, lambda: remove(out),
                       checked_store(out, "skopeo pull"), proxy=lambda: source_proxy)
    curl_pull = Case(f"curl -Z --parallel-max {jobs}, same requests (manifests + blobs) + sha256sum -c",
                     ["bash", "-c", CURL_PULL, "curl", out, str(jobs), curl_config("pull.curlrc", source_proxy), sums],
                     lambda: fresh(out), proxy=lambda: source_proxy)
    cs_pull = Case(f"chartsync images --pull --jobs {jobs}", [binary, "images", "--pull", "-q", "--jobs", str(jobs)],
                   lambda: remove(store), checked_store(store, "chartsync images --pull"), cwd=project,
                   proxy=lambda: source_proxy)
    pull_cases = [skopeo_pull, curl_pull, cs_pull]
    direct_cases = []
    if args.direct:
        direct_project = os.path.join(work, "project-direct")
        make_project(direct_project, source, images)
        direct_store = os.path.join(direct_project, "images")
        curl_direct = Case(f"curl -Z --parallel-max {jobs}, same requests + sha256sum -c (no proxy)",
                           ["bash", "-c", CURL_PULL, "curl", out, str(jobs), curl_config("direct.curlrc", source), sums],
                           lambda: fresh(out))
        cs_direct = Case(f"chartsync images --pull --jobs {jobs} (no proxy)",
                         [binary, "images", "--pull", "-q", "--jobs", str(jobs)], lambda: remove(direct_store),
                         checked_store(direct_store, "chartsync images --pull, no proxy"), cwd=direct_project)
        direct_cases = [curl_direct, cs_direct]
    big_cases = []
    if big:
        big_project = os.path.join(work, "project-big")
        make_project(big_project, source, [big])
        big_store = os.path.join(big_project, "images")
        big_layer = big["blobs"][1]
        big_out = os.path.join(work, "big.layer")

        def check_big_curl():
            if os.path.getsize(big_out) != big_layer["size"]:
                sys.exit("bench-images: curl -o wrote a short big layer")

        def check_big_store():
            path = os.path.join(big_store, "blobs", "sha256", big_layer["digest"].split(":")[1])
            if os.path.getsize(path) != big_layer["size"]:
                sys.exit("bench-images: chartsync's big layer has the wrong size")
            if "big" not in hashed and sha256(path) != big_layer["digest"].split(":")[1]:
                sys.exit("bench-images: chartsync's big layer does not hash to its digest")
            hashed.add("big")

        curl_big = Case(f"curl -o, the {mib(big_layer['size']):.0f} MiB layer (no proxy)",
                        ["curl", "-fsS", "-o", big_out, f"http://{source}/v2/bench/big/blobs/{big_layer['digest']}"],
                        lambda: remove(big_out), check_big_curl)
        cs_big = Case(f"chartsync images --pull, the image with that layer (no proxy)",
                      [binary, "images", "--pull", "-q"], lambda: remove(big_store), check_big_store, cwd=big_project)
        big_cases = [curl_big, cs_big]
    bundle_file, zst = os.path.join(work, "b.bundle"), os.path.join(work, "images.tar.zst")
    site, plain = os.path.join(work, "site"), os.path.join(work, "plain")
    cs_bundle = Case("chartsync bundle (zstd)", [binary, "bundle", "-o", bundle_file], cwd=project,
                     prepare=lambda: remove(bundle_file, bundle_file + ".sha256"))
    tar_zstd = Case("tar -cf - images | zstd -T0",
                    ["bash", "-c", f"set -o pipefail; tar -cf - -C '{project}' images | zstd -q -T0 -o '{zst}'"],
                    prepare=lambda: remove(zst))

    def check_site():
        check_store(os.path.join(site, "images"), "chartsync verify --extract", "verify" not in hashed)
        hashed.add("verify")

    cs_verify = Case("chartsync verify BUNDLE --extract DIR", [binary, "verify", bundle_file, "--extract", site],
                     prepare=lambda: remove(site), check=check_site)
    unzstd = Case("zstd -dc | tar -x; sha256sum -c (every blob)",
                  ["bash", "-c", f"set -euo pipefail; zstd -q -dc '{zst}' | tar -x -C '{plain}'; cd '{plain}/images'; "
                                 f"sha256sum --quiet --strict -c '{store_sums}'"],
                  prepare=lambda: fresh(plain))
    bundle_cases = [cs_bundle, tar_zstd, cs_verify, unzstd]

    print(f"bench-images: measuring the pull ({args.runs} runs)...", file=sys.stderr)
    everything = pull_cases + direct_cases + big_cases + bundle_cases
    for r in range(args.warmup + args.runs):
        record = r >= args.warmup
        for case in everything:   # chartsync's pull before the bundle: the bundle packs its store
            case.run(record)
        remove(out, site, plain, bundle_file, zst, big_out)
        print(f"  run {r + 1}/{args.warmup + args.runs} done{' (warm-up)' if not record else ''}", file=sys.stderr)

    table(f"pull: {len(images)} images ({mib(layer_bytes):.0f} MiB) through the {args.delay_ms} ms proxy; seconds",
          pull_cases, cs_pull)
    if direct_cases:
        table("pull straight from the registry (no latency, no proxy cap); seconds", direct_cases, cs_direct)
    if big_cases:
        table("one big layer, straight from the registry; seconds", big_cases, cs_big)
    table(f"bundle and verify of the pulled store ({mib(layer_bytes + manifest_bytes):.0f} MiB); seconds",
          bundle_cases, cs_bundle)
    print("\nrequests forwarded by the proxy in one run:")
    for c in pull_cases:
        print(f"  {c.label}: {c.request_text}")
    kinds = lambda c: {k: n for k, n in c.requests.items() if k != "connections"}
    if kinds(cs_pull) != kinds(curl_pull):
        print(f"  note: chartsync's requests differ from curl's ({cs_pull.request_text} vs {curl_pull.request_text})")
    print()
    ratio = skopeo_pull.median / cs_pull.median
    results.goal("images --pull vs skopeo copy one image at a time", f"{ratio:.1f}x faster", ">= 3", ratio >= 3)
    ratio = cs_pull.median / curl_pull.median
    results.goal(f"images --pull / curl --parallel (same requests, {jobs} at once, + sha256sum -c)", f"{ratio:.2f}",
                 "<= 1.2", ratio <= 1.2)
    if direct_cases:
        results.value("images --pull / curl --parallel with no latency (context)",
                      f"{cs_direct.median / curl_direct.median:.2f}", show=True)
    peak = max(max(c.peaks) for c in [cs_pull] + direct_cases[1:] + big_cases[1:])
    results.goal("images --pull peak RSS", f"{mb(peak):.1f} MB", "< 100 MB", peak < 100e6)
    if big_cases:
        ratio = cs_big.median / curl_big.median
        results.goal(f"{mib(big_layer['size']):.0f} MiB layer: images --pull / curl -o", f"{ratio:.2f}", "<= 1.3",
                     ratio <= 1.3)
    ratio = cs_bundle.median / tar_zstd.median
    results.goal("bundle of the store / (tar | zstd -T0)", f"{ratio:.2f}", "<= 1.2", ratio <= 1.2)
    ratio = cs_verify.median / unzstd.median
    results.goal("verify --extract / (zstd -dc | tar -x + sha256sum -c)", f"{ratio:.2f}", "<= 0.7", ratio <= 0.7)
    results.value("bundle / verify peak RSS", f"{mb(max(cs_bundle.peaks)):.1f} MB / {mb(max(cs_verify.peaks)):.1f} MB",
                  show=True)
    results.value(f"{len(images)} images ({mib(layer_bytes):.0f} MiB): images --pull median time",
                  f"{cs_pull.median:.2f} s (skopeo {skopeo_pull.median:.2f} s, curl {curl_pull.median:.2f} s)")

# ---------------------------------------------------------------------------- issue 14: push

if "push" in parts:
    if not os.path.exists(os.path.join(store, "index.json")):
        print("bench-images: pulling the store to push (chartsync images --pull, untimed)...", file=sys.stderr)
        quiet([binary, "images", "--pull", "-q", "--jobs", str(jobs)], cwd=project)
    check_store(store, "the store to push", True)
    names = [f"{source_proxy}/{image['repository']}:{image['tag']}" for image in images]
    # curl's lists: each distinct blob uploaded into the first repository needing it, then
    # mounted into the others; the manifests as the store holds them.
    push_dir = os.path.join(work, "curl-push")
    fresh(push_dir)
    with open(os.path.join(push_dir, "curl-push-worker.sh"), "w") as f:
        f.write(CURL_PUSH_WORKER)
    owner = {}
    with open(os.path.join(push_dir, "blobs.txt"), "w") as b, open(os.path.join(push_dir, "mounts.txt"), "w") as m, \
            open(os.path.join(push_dir, "manifests.txt"), "w") as t:
        for image in images:
            repository = "site/" + image["repository"]
            for blob in image["blobs"]:
                path = os.path.join(store, "blobs", "sha256", blob["digest"].split(":")[1])
                if blob["digest"] not in owner:
                    owner[blob["digest"]] = repository
                    b.write(f"{blob['digest']} {repository} {path}\n")
                elif owner[blob["digest"]] != repository:
                    m.write(f"{blob['digest']} {repository} {owner[blob['digest']]}\n")
            t.write(f"{repository} {image['tag']} {os.path.join(store, 'blobs', 'sha256', image['digest'].split(':')[1])}\n")

    target = {}           # the hosts of the registry of the case running, and of its proxy
    target_processes = []

    def new_target():
        """Stops the last target registry and its proxy, starts a fresh, empty pair."""
        for proc in target_processes:
            stop(proc)
        target_processes.clear()
        root = os.path.join(work, "target")
        remove(root)
        registry_process, target["host"] = start_registry(root)
        proxy_process, target["proxy_host"] = start_proxy(target["host"], os.path.join(work, "target-proxy.port"))
        target_processes.extend([proxy_process, registry_process])

    def check_target(label):
        def check():
            for image in images:
                request = urllib.request.Request(
                    f"http://{target['host']}/v2/site/{image['repository']}/manifests/{image['tag']}",
                    method="HEAD", headers={"Accept": MANIFEST})
                try:
                    with urllib.request.urlopen(request) as response:
                        digest = response.headers.get("Docker-Content-Digest")
                except OSError as error:
                    sys.exit(f"bench-images: {label}: site/{image['repository']}:{image['tag']} is missing ({error})")
                if digest != image["digest"]:
                    sys.exit(f"bench-images: {label}: site/{image['repository']} is {digest}, expected {image['digest']}")
        return check

    proxy_host = lambda: target["proxy_host"]

    def case(label, make_argv, prepare, check, cwd=None):
        """A Case whose argv is made once its prepare started the target (the port is known then)."""
        c = Case(label, [], prepare, check, cwd, proxy=proxy_host)
        original = c.prepare

        def prepare_and_argv():
            original()
            c.argv = make_argv()
        c.prepare = prepare_and_argv
        return c

    skopeo_push = case("skopeo copy --all oci:STORE:REF docker://..., one image at a time",
                       lambda: ["bash", "-c", SKOPEO_PUSH, "skopeo", store, target["proxy_host"] + "/site"] + names,
                       new_target, check_target("skopeo push"))
    curl_push = case(f"curl, xargs -P {jobs}: POST + PUT per blob, mounts, manifests",
                     lambda: ["bash", "-c", CURL_PUSH, "curl", target["proxy_host"], str(jobs), push_dir],
                     new_target, check_target("curl push"))
    push_argv = lambda: [binary, "push", project, "--registry", target["proxy_host"] + "/site", "--plain-http", "-q",
                         "--jobs", str(jobs)]
    cs_push = case(f"chartsync push --jobs {jobs} (empty registry)", push_argv, new_target,
                   check_target("chartsync push"))
    cs_again = case("chartsync push again (nothing to send)", push_argv, lambda: None, check_target("chartsync push again"))
    push_cases = [skopeo_push, curl_push, cs_push, cs_again]
    print(f"bench-images: measuring the push ({args.runs} runs)...", file=sys.stderr)
    for r in range(args.warmup + args.runs):
        for c in push_cases:
            c.run(r >= args.warmup)
        print(f"  run {r + 1}/{args.warmup + args.runs} done{' (warm-up)' if r < args.warmup else ''}", file=sys.stderr)
    for proc in target_processes:
        stop(proc)

    table(f"push: {len(images)} images ({mib(layer_bytes):.0f} MiB) into an empty registry behind a "
          f"{args.delay_ms} ms proxy; seconds", push_cases, cs_push)
    print("\nrequests forwarded by the proxy in one run:")
    for c in push_cases:
        print(f"  {c.label}: {c.request_text}")
    sent = {k: n for k, n in cs_again.requests.items() if k != "connections" and not k.startswith("HEAD")}
    if sent:
        sys.exit(f"bench-images: the second push sent more than HEADs: {cs_again.request_text}")
    print()
    ratio = skopeo_push.median / cs_push.median
    push_report.goal("push vs skopeo copy one image at a time", f"{ratio:.1f}x faster", ">= 3", ratio >= 3)
    ratio = cs_push.median / curl_push.median
    push_report.goal(f"push / curl uploads ({jobs} at once)", f"{ratio:.2f}", "<= 1.3", ratio <= 1.3)
    ratio = cs_push.median / cs_again.median
    push_report.goal("second push (nothing to send) vs first", f"{ratio:.0f}x faster", ">= 50", ratio >= 50,
                     detail=f"{cs_again.median:.3f} s: {cs_again.request_text}")
    push_report.value("push peak RSS", f"{mb(max(cs_push.peaks)):.1f} MB (again: {mb(max(cs_again.peaks)):.1f} MB)",
                      show=True)
    push_report.value(f"{len(images)} images ({mib(layer_bytes):.0f} MiB): push median time",
                      f"{cs_push.median:.2f} s (skopeo {skopeo_push.median:.2f} s, curl {curl_push.median:.2f} s)")

if not results.all_met or not push_report.all_met:
    if os.environ.get("STRICT") == "1":
        print("bench-images: a goal was missed (STRICT=1)", file=sys.stderr)
        sys.exit(1)
