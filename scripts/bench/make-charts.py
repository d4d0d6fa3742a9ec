#!/usr/bin/env python3
"""Builds the Helm repositories and chart lists scripts/bench-pull.sh, bench-oci.sh and bench-gate.sh
measure.

    make-charts.py small --repo DIR --project DIR --url URL [--count 200] [--plain-http]
        DIR/chart-NNN-1.0.0.tgz (NNN = 000..count-1), each a real chart (Chart.yaml apiVersion v2,
        values.yaml, a template, 3-14 KiB of random payload; 5-20 KB gzip'd), DIR/index.yaml with
        their sha256 digests and relative URLs, PROJECT/chartsync.yaml listing them all from URL,
        PROJECT/SHA256SUMS (sha256sum -c format) and PROJECT/files.txt (one tarball name a line).
        For an oci:// URL (scripts/bench-oci.sh pushes the tarballs), --plain-http writes
        `plainHTTP: true` into the repository's entry.

    make-charts.py big --repo DIR --project DIR --url URL [--mib 1024]
        DIR/big-1.0.0.tgz: a real chart whose files/blob.bin holds MIB MiB of random bytes, plus
        the same index.yaml, chartsync.yaml, SHA256SUMS and files.txt.

    make-charts.py sized --repo DIR --project DIR --url URL [--count 500] [--kib 2048]
        DIR/chart-NNNN-1.0.0.tgz, each a real chart whose files/payload.bin holds KIB KiB of
        pseudo-random bytes seeded by the chart's number (so the same arguments give the same
        tarballs), gzip'd at level 0, plus PROJECT/chartsync.yaml, SHA256SUMS and files.txt as
        above, but no index.yaml: the caller has `chartsync index` write it.

Tarballs are reproducible apart from the random bytes (sorted ustar entries, owner 0, fixed
mtime, gzip without name or time). The big one is gzip'd at level 0: deflate at any level stores
random data in stored blocks anyway, so the stream has the same shape as `helm package` would
write, without a minute of futile compression.
"""
import argparse
import gzip
import hashlib
import os
import random
import tarfile

MTIME = 1767225600  # 2026-01-01T00:00:00Z
CREATED = "2026-01-01T00:00:00Z"
MIB = 1 << 20


class HashingWriter:
    """A binary file that also hashes and counts what is written to it."""

    def __init__(self, path):
        self.file = open(path, "wb")
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        return self.file.write(data)

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()


class TarWriter:
    """A minimal streaming ustar writer (regular files only, as `helm package` writes)."""

    def __init__(self, out):
        self.out = out
        self.written = 0

    def _write(self, data):
        self.out.write(data)
        self.written += len(data)

    def add(self, name, chunks, size):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, MTIME, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        self._write(info.tobuf(format=tarfile.USTAR_FORMAT))
        done = 0
        for chunk in chunks:
            self._write(chunk)
            done += len(chunk)
        assert done == size, (name, done, size)
        if size % 512:
            self._write(b"\0" * (512 - size % 512))

    def add_bytes(self, name, data):
        self.add(name, [data], len(data))

    def close(self):
        self._write(b"\0" * 1024)
        record = tarfile.RECORDSIZE
        if self.written % record:
            self._write(b"\0" * (record - self.written % record))


def chart_yaml(name, version, description):
    return (f"apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{version}\"\n"
            f"description: {description}\ntype: application\n").encode()


def template(name):
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: {{ .Release.Name }}-" + name + "\n"
        "  labels:\n    app.kubernetes.io/name: " + name + "\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
        "  replicas: {{ .Values.replicaCount | quote }}\n"
    ).encode()


def values(name):
    return (f"# Default values for {name}.\nreplicaCount: 1\ngreeting: hello from {name}\n"
            "image:\n  repository: registry.local/bench\n  tag: \"1.0.0\"\n").encode()


def write_chart(path, name, version, description, files, level):
    """Writes a chart tarball; files are (relative name, chunks, size). Returns (sha256, size)."""
    raw = HashingWriter(path)
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as gz:
        tar = TarWriter(gz)
        entries = [("Chart.yaml", [chart_yaml(name, version, description)]),
                   ("values.yaml", [values(name)]),
                   ("templates/configmap.yaml", [template(name)])]
        for rel, chunks in entries:
            tar.add_bytes(f"{name}/{rel}", b"".join(chunks))
        for rel, chunks, size in files:
            tar.add(f"{name}/{rel}", chunks, size)
        tar.close()
    raw.close()
    return raw.sha.hexdigest(), raw.size


def write_outputs(repo, project, url, charts, index=True, plain_http=False):
    """index.yaml in repo (unless index is false); chartsync.yaml, SHA256SUMS and files.txt in project."""
    if index:
        write_index(repo, charts)
    write_project(project, url, charts, plain_http)


def write_index(repo, charts):
    lines = ["apiVersion: v1", "entries:"]
    for name, version, description, digest, _ in charts:
        lines += [f"  {name}:",
                  "  - apiVersion: v2",
                  f"    appVersion: \"{version}\"",
                  f"    created: \"{CREATED}\"",
                  f"    description: {description}",
                  f"    digest: {digest}",
                  f"    name: {name}",
                  "    type: application",
                  "    urls:",
                  f"    - {name}-{version}.tgz",
                  f"    version: {version}"]
    lines.append(f"generated: \"{CREATED}\"")
    with open(os.path.join(repo, "index.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_project(project, url, charts, plain_http=False):
    os.makedirs(project, exist_ok=True)
    listing = ["repositories:", "  - name: bench", f"    url: {url}"]
    listing += ["    plainHTTP: true"] if plain_http else []
    listing += ["charts:"]
    for name, version, *_ in charts:
        listing += [f"  - name: {name}", "    repository: bench", f"    version: \"{version}\""]
    with open(os.path.join(project, "chartsync.yaml"), "w") as f:
        f.write("\n".join(listing) + "\n")
    with open(os.path.join(project, "SHA256SUMS"), "w") as f:
        for name, version, _, digest, _ in charts:
            f.write(f"{digest}  {name}-{version}.tgz\n")
    with open(os.path.join(project, "files.txt"), "w") as f:
        for name, version, *_ in charts:
            f.write(f"{name}-{version}.tgz\n")


def small(args):
    os.makedirs(args.repo, exist_ok=True)
    charts = []
    for i in range(args.count):
        name, version = f"chart-{i:03d}", "1.0.0"
        rng = random.Random(i)
        payload = rng.randbytes(rng.randrange(3 * 1024, 14 * 1024))
        description = f"Benchmark chart number {i}"
        digest, size = write_chart(os.path.join(args.repo, f"{name}-{version}.tgz"), name, version, description,
                                   [("files/payload.bin", [payload], len(payload))], level=9)
        charts.append((name, version, description, digest, size))
    write_outputs(args.repo, args.project, args.url, charts, plain_http=args.plain_http)
    sizes = [c[4] for c in charts]
    print(f"{len(charts)} charts, {min(sizes)}..{max(sizes)} bytes each, {sum(sizes)} in all")


def big(args):
    os.makedirs(args.repo, exist_ok=True)
    name, version, description = "big", "1.0.0", "A chart carrying a large random file"
    # Random bytes from a 4 MiB pool read at a different offset for every MiB: nothing a
    # compressor (32 KiB window) or a sparse file could shrink, without waiting on getrandom.
    pool = os.urandom(4 * MIB)
    offsets = random.Random(1).sample(range(3 * MIB), args.mib)

    def blob():
        for offset in offsets:
            yield pool[offset:offset + MIB]

    digest, size = write_chart(os.path.join(args.repo, f"{name}-{version}.tgz"), name, version, description,
                               [("files/blob.bin", blob(), args.mib * MIB)], level=0)
    write_outputs(args.repo, args.project, args.url, [(name, version, description, digest, size)])
    print(f"{name}-{version}.tgz: {size} bytes")


def sized(args):
    os.makedirs(args.repo, exist_ok=True)
    charts = []
    for i in range(args.count):
        name, version = f"chart-{i:04d}", "1.0.0"
        # random.Random(i).randbytes: seeded (reproducible), about as fast as os.urandom, and
        # nothing a compressor could shrink.
        payload = random.Random(i).randbytes(args.kib * 1024)
        description = f"Benchmark chart number {i} ({args.kib} KiB payload)"
        digest, size = write_chart(os.path.join(args.repo, f"{name}-{version}.tgz"), name, version, description,
                                   [("files/payload.bin", [payload], len(payload))], level=0)
        charts.append((name, version, description, digest, size))
    write_outputs(args.repo, args.project, args.url, charts, index=False)
    sizes = [c[4] for c in charts]
    print(f"{len(charts)} charts, {min(sizes)}..{max(sizes)} bytes each, {sum(sizes)} in all")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("small", "big", "sized"):
        p = sub.add_parser(command)
        p.add_argument("--repo", required=True)
        p.add_argument("--project", required=True)
        p.add_argument("--url", required=True)
        if command == "small":
            p.add_argument("--count", type=int, default=200)
            p.add_argument("--plain-http", action="store_true", help="plainHTTP: true for an oci:// URL")
        elif command == "big":
            p.add_argument("--mib", type=int, default=1024)
        else:
            p.add_argument("--count", type=int, default=500)
            p.add_argument("--kib", type=int, default=2048)
    args = parser.parse_args()
    {"small": small, "big": big, "sized": sized}[args.command](args)


if __name__ == "__main__":
    main()
