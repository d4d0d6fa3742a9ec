#!/usr/bin/env python3
"""Pushes the image set of scripts/bench-images.sh into a registry (plain HTTP, anonymous) over
the distribution API, stdlib only, and describes it as JSON.

The set: IMAGES OCI images (`bench/app-NN:1.0`) of about TOTAL MiB of distinct layer bytes in
all, sharing base layers the way images built FROM the same bases do: the images fall into
FAMILIES families (image i in family i % FAMILIES), each family with two base layers shared by
its images (all families' base layers together a quarter of TOTAL, split 80/20); every image has three layers of its own (the other three quarters of TOTAL, split
60/30/10) and a config. With --big-mib, one more image `bench/big:1.0` with a single layer of that
size. Every layer is a valid gzip (stored blocks: incompressible, and cheap to make) of a tar
holding one file of random bytes, written to a temporary file while hashed, then uploaded
(POST + monolithic PUT; a base layer already in the registry is mounted into the next image's
repository). Memory stays flat whatever the size.

    make-images.py --registry 127.0.0.1:PORT --total-mib 2048 --images 20 [--big-mib 1024]
                   --tmp DIR --out set.json

set.json: {"images": [{"repository", "tag", "digest", "size" (manifest bytes), "manifest" (its
text), "blobs": [{"digest", "size", "kind": config|base|own}]}], "big": {... the same, or null}}.
"""
import argparse
import hashlib
import http.client
import json
import os
import socket
import tarfile
import time
import zlib

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MIB = 1 << 20


class Registry:
    def __init__(self, host):
        self.host = host
        self.connection = None

    def request(self, method, path, body=None, headers=None, expect=(200, 201, 202)):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, timeout=300, blocksize=MIB)
                self.connection.connect()
                # Headers and body go in separate writes: without this, Nagle's algorithm and the
                # peer's delayed ACK cost 40 ms a request.
                self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                if hasattr(body, "seek"):
                    body.seek(0)
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        if response.status not in expect:
            raise SystemExit(f"make-images: {method} {path} answered {response.status}: {data[:300]!r}")
        return response

    def upload(self, repository, digest, body, size):
        start = self.request("POST", f"/v2/{repository}/blobs/uploads/", body=b"", headers={"Content-Length": "0"},
                             expect=(202,))
        location = start.getheader("Location")
        if location.startswith("http"):
            location = "/" + location.split("/", 3)[3]
        separator = "&" if "?" in location else "?"
        self.request("PUT", f"{location}{separator}digest={digest}", body=body,
                     headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)}, expect=(201,))

    def mount(self, repository, digest, source):
        answer = self.request("POST", f"/v2/{repository}/blobs/uploads/?mount={digest}&from={source}", body=b"",
                              headers={"Content-Length": "0"}, expect=(201, 202))
        if answer.status != 201:
            raise SystemExit(f"make-images: the registry did not mount {digest} into {repository}")


def make_layer(path, size, name):
    """Writes a gzip (stored blocks) of a tar holding `name` with `size` random bytes to `path`;
    returns (digest, bytes, diff_id)."""
    gzip_digest, diff_digest = hashlib.sha256(), hashlib.sha256()
    compressor = zlib.compressobj(0, zlib.DEFLATED, 31)
    written = 0
    with open(path, "wb") as f:
        def put(raw):
            nonlocal written
            diff_digest.update(raw)
            out = compressor.compress(raw)
            if out:
                gzip_digest.update(out)
                f.write(out)
                written += len(out)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, 0, 0o644
        put(info.tobuf(format=tarfile.PAX_FORMAT))
        left = size
        while left > 0:
            n = min(left, 8 * MIB)
            put(os.urandom(n))
            left -= n
        put(b"\0" * ((512 - size % 512) % 512) + b"\0" * 1024)
        out = compressor.flush()
        gzip_digest.update(out)
        f.write(out)
        written += len(out)
    return "sha256:" + gzip_digest.hexdigest(), written, "sha256:" + diff_digest.hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--registry", required=True)
    parser.add_argument("--total-mib", type=int, default=2048)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--families", type=int, default=4)
    parser.add_argument("--big-mib", type=int, default=0)
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    registry = Registry(args.registry)
    started = time.monotonic()
    total = args.total_mib * MIB
    families = max(1, min(args.families, args.images))
    base_each = total // 4 // families
    own_each = (total - base_each * families) // args.images
    base_sizes = [base_each * 8 // 10, base_each - base_each * 8 // 10]
    own_sizes = [own_each * 6 // 10, own_each * 3 // 10, own_each - own_each * 6 // 10 - own_each * 3 // 10]
    layer_file = os.path.join(args.tmp, "layer.tmp")

    def layer(size, name, repository, kind):
        digest, length, diff_id = make_layer(layer_file, size, name)
        with open(layer_file, "rb") as f:
            registry.upload(repository, digest, f, length)
        os.remove(layer_file)
        return {"digest": digest, "size": length, "kind": kind, "diff_id": diff_id}

    def image(repository, layers):
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]}},
                            sort_keys=True).encode()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        registry.upload(repository, config_digest, config, len(config))
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": l["digest"], "size": l["size"]} for l in layers],
        }, indent=2).encode()
        answer = registry.request("PUT", f"/v2/{repository}/manifests/1.0", body=manifest,
                                  headers={"Content-Type": MANIFEST, "Content-Length": str(len(manifest))},
                                  expect=(201,))
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        if answer.getheader("Docker-Content-Digest") != digest:
            raise SystemExit(f"make-images: the registry named {repository}'s manifest otherwise than {digest}")
        blobs = [{"digest": config_digest, "size": len(config), "kind": "config"}]
        blobs += [{k: l[k] for k in ("digest", "size", "kind")} for l in layers]
        return {"repository": repository, "tag": "1.0", "digest": digest, "size": len(manifest),
                "manifest": manifest.decode(), "blobs": blobs}

    bases = {}   # family -> (its layers, the repository that first got them)
    images = []
    for i in range(args.images):
        repository = f"bench/app-{i:02d}"
        family = i % families
        if family in bases:
            layers, source = bases[family]
            for l in layers:
                registry.mount(repository, l["digest"], source)
        else:
            layers = [layer(s, f"base-{family}-{n}.bin", repository, "base") for n, s in enumerate(base_sizes)]
            bases[family] = (layers, repository)
        own = [layer(s, f"app-{i}-{n}.bin", repository, "own") for n, s in enumerate(own_sizes)]
        images.append(image(repository, layers + own))
        print(f"  pushed {repository} ({len(images)}/{args.images}, {time.monotonic() - started:.0f} s)", flush=True)
    big = None
    if args.big_mib > 0:
        big = image("bench/big", [layer(args.big_mib * MIB, "big.bin", "bench/big", "own")])
        print(f"  pushed bench/big ({time.monotonic() - started:.0f} s)", flush=True)
    with open(args.out, "w") as f:
        json.dump({"images": images, "big": big}, f, indent=1)


if __name__ == "__main__":
    main()
