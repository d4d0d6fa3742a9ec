#!/usr/bin/env python3
"""Pushes a small image to a registry over the distribution API (stdlib only), independently of
chartsync's code: config blob and one gzip layer (POST an upload, PUT it monolithically with
?digest=), then the manifest under a tag. With --index, two single-platform images (linux/amd64,
linux/arm64) are pushed by digest and an image index under the tag. --layer-size BYTES makes the
image's layer hold that many pseudo-random bytes (from the seed); --base-seed N puts a base layer
(from N) before it, the same blob in every image pushed with the same base seed.

With --chart FILE.tgz, a Helm chart artifact is pushed instead (as `helm push` does): an OCI
manifest whose config (application/vnd.cncf.helm.config.v1+json) is Chart.yaml's top-level
scalars as JSON and whose one layer (application/vnd.cncf.helm.chart.content.v1.tar+gzip) is the
.tgz bytes, under --tag and every --also-tag; --no-media-type leaves `mediaType` out of the
manifest document (as older Helm releases did; the registry keeps the Content-Type).

Usage: registry-push.py --url BASE --repository NAME --tag TAG [--format docker|oci] [--index]
       [--seed N] [--layer-size BYTES] [--base-seed N] [--cafile PEM] [--user NAME]
       (password in $REGISTRY_PUSH_PASSWORD)
       registry-push.py --url BASE --repository NAME --tag TAG --chart FILE.tgz [--also-tag TAG]...
       [--no-media-type] [--cafile PEM] [--user NAME]
Answers 401 challenges (Basic with the user; Bearer by asking the realm for
repository:NAME:pull,push with the user's basic credentials). Prints one JSON line:
{"digest": the digest the registry reported for the tagged manifest (checked against the sha256
of the bytes sent), "mediaType": ..., "size": ..., "manifests": [child digests of an index],
"config" and "layers": the descriptors of a single image or chart}.
"""
import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import random
import ssl
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request

DOCKER = {
    "manifest": "application/vnd.docker.distribution.manifest.v2+json",
    "config": "application/vnd.docker.container.image.v1+json",
    "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "index": "application/vnd.docker.distribution.manifest.list.v2+json",
}
OCI = {
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
    "index": "application/vnd.oci.image.index.v1+json",
}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self, base, repository, cafile, user, password):
        self.base = base.rstrip("/")
        self.repository = repository
        self.user = user
        self.password = password
        self.authorization = None
        context = ssl.create_default_context(cafile=cafile) if cafile else None
        handlers = [NoRedirect()]
        if context:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def basic(self):
        if self.user is None:
            sys.exit("registry asks for credentials and no --user was given")
        pair = "%s:%s" % (self.user, self.password or "")
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def raw(self, method, url, data=None, headers=None, authorization=None):
        request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if authorization:
            request.add_header("Authorization", authorization)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def call(self, method, url, data=None, headers=None, expect=(200, 201, 202)):
        if url.startswith("/"):
            url = self.base + url
        status, response_headers, body = self.raw(method, url, data, headers, self.authorization)
        if status == 401:
            self.authorize(response_headers.get("WWW-Authenticate", ""))
            status, response_headers, body = self.raw(method, url, data, headers, self.authorization)
        if status not in expect:
            sys.exit("%s %s answered %d: %s" % (method, url, status, body[:500].decode(errors="replace")))
        return status, response_headers, body

    def authorize(self, challenge):
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic":
            self.authorization = self.basic()
            return
        if scheme.lower() != "bearer":
            sys.exit("unknown challenge %r" % challenge)
        parameters = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            parameters[name.lower()] = value.strip('"')
        query = {"scope": "repository:%s:pull,push" % self.repository}
        if "service" in parameters:
            query["service"] = parameters["service"]
        url = parameters["realm"] + "?" + urllib.parse.urlencode(query)
        status, _, body = self.raw("GET", url, authorization=self.basic() if self.user else None)
        if status != 200:
            sys.exit("token service answered %d: %s" % (status, body[:300]))
        document = json.loads(body)
        self.authorization = "Bearer " + (document.get("token") or document["access_token"])

    def blob(self, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _, headers, _ = self.call("POST", "/v2/%s/blobs/uploads/" % self.repository, data=b"",
                                  expect=(202,))
        location = urllib.parse.urljoin(self.base + "/", headers["Location"])
        separator = "&" if "?" in location else "?"
        self.call("PUT", location + separator + "digest=" + urllib.parse.quote(digest, safe=":"),
                  data=data, headers={"Content-Type": "application/octet-stream"}, expect=(201,))
        return digest

    def manifest(self, reference, media_type, document):
        data = json.dumps(document, indent=3).encode()
        expected = "sha256:" + hashlib.sha256(data).hexdigest()
        _, headers, _ = self.call("PUT", "/v2/%s/manifests/%s" % (self.repository, reference), data=data,
                                  headers={"Content-Type": media_type}, expect=(201,))
        reported = headers.get("Docker-Content-Digest")
        if reported != expected:
            sys.exit("registry reported %s for a manifest whose bytes hash to %s" % (reported, expected))
        return {"digest": reported, "mediaType": media_type, "size": len(data)}


def layer(seed, size=0):
    """A gzip tar layer holding one file: a short text, or `size` pseudo-random bytes (from `seed`,
    incompressible) when `size` is given; the same arguments give the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if size > 0:
            content = random.Random(seed).randbytes(size)
        else:
            content = ("chartsync test layer %d\n" % seed).encode() * 50
        info = tarfile.TarInfo("etc/chartsync-%d.txt" % seed)
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    uncompressed = raw.getvalue()
    level = 1 if size > 0 else 9
    return gzip.compress(uncompressed, compresslevel=level, mtime=0), "sha256:" + hashlib.sha256(uncompressed).hexdigest()


def image_manifest(client, types, seed, architecture, layer_size=0, base_seed=None):
    """Pushes the config and layer blobs of an image (one layer; two when `base_seed` is given: a
    base layer from that seed first, which images pushed with the same base seed share); returns
    its manifest document. `layer_size` makes the image's own layer that many random bytes."""
    layers = []
    if base_seed is not None:
        layers.append(layer(1_000_000 + base_seed))
    layers.append(layer(seed, layer_size))
    config = json.dumps({"architecture": architecture, "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in layers]}}).encode()
    return {
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": {"mediaType": types["config"], "size": len(config), "digest": client.blob(config)},
        "layers": [{"mediaType": types["layer"], "size": len(compressed), "digest": client.blob(compressed)}
                   for compressed, _ in layers],
    }


HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def chart_metadata(path):
    """Chart.yaml's top-level `key: value` scalars (enough for name, version, apiVersion)."""
    with tarfile.open(path, mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml"))
        text = tar.extractfile(member).read().decode()
    metadata = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip().strip("'\"")
        if value:
            metadata[key.strip()] = value
    return metadata


def push_chart(client, arguments):
    """Pushes a Helm chart artifact under every tag; returns the tagged manifest's report."""
    with open(arguments.chart, "rb") as handle:
        content = handle.read()
    metadata = chart_metadata(arguments.chart)
    config = json.dumps(metadata, sort_keys=True).encode()
    document = {"schemaVersion": 2}
    if not arguments.no_media_type:
        document["mediaType"] = OCI["manifest"]
    document["config"] = {"mediaType": HELM_CONFIG, "digest": client.blob(config), "size": len(config)}
    document["layers"] = [{"mediaType": HELM_CHART, "digest": client.blob(content), "size": len(content)}]
    document["annotations"] = {"org.opencontainers.image.title": metadata.get("name", ""),
                               "org.opencontainers.image.version": metadata.get("version", "")}
    result = None
    if arguments.index:
        # As Helm 4 may push: an OCI image index naming the chart's manifest (pushed by digest).
        digest = "sha256:" + hashlib.sha256(json.dumps(document, indent=3).encode()).hexdigest()
        child = client.manifest(digest, OCI["manifest"], document)
        child["artifactType"] = HELM_CONFIG
        index = {"schemaVersion": 2, "mediaType": OCI["index"], "manifests": [child]}
        for tag in [arguments.tag] + (arguments.also_tag or []):
            result = client.manifest(tag, OCI["index"], index)
        result["manifests"] = [child["digest"]]
        result["config"] = document["config"]
        result["layers"] = document["layers"]
        return result
    for tag in [arguments.tag] + (arguments.also_tag or []):
        result = client.manifest(tag, OCI["manifest"], document)
    result["manifests"] = []
    result["config"] = document["config"]
    result["layers"] = document["layers"]
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--format", choices=["docker", "oci"], default="docker")
    parser.add_argument("--index", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layer-size", type=int, default=0)
    parser.add_argument("--base-seed", type=int)
    parser.add_argument("--cafile")
    parser.add_argument("--user")
    parser.add_argument("--chart")
    parser.add_argument("--also-tag", action="append")
    parser.add_argument("--no-media-type", action="store_true")
    arguments = parser.parse_args()
    client = Client(arguments.url, arguments.repository, arguments.cafile, arguments.user,
                    os.environ.get("REGISTRY_PUSH_PASSWORD"))
    types = OCI if arguments.format == "oci" else DOCKER
    if arguments.chart:
        result = push_chart(client, arguments)
    elif not arguments.index:
        document = image_manifest(client, types, arguments.seed, "amd64", arguments.layer_size, arguments.base_seed)
        result = client.manifest(arguments.tag, types["manifest"], document)
        result["manifests"] = []
        result["config"] = document["config"]
        result["layers"] = document["layers"]
    else:
        # The platform images are pushed by digest (the registry checks that an index's
        # manifests exist), then the index under the tag.
        children = []
        for offset, architecture in enumerate(["amd64", "arm64"]):
            document = image_manifest(client, types, arguments.seed * 10 + offset, architecture,
                                      arguments.layer_size, arguments.base_seed)
            digest = "sha256:" + hashlib.sha256(json.dumps(document, indent=3).encode()).hexdigest()
            child = client.manifest(digest, types["manifest"], document)
            child["platform"] = {"architecture": architecture, "os": "linux"}
            children.append(child)
        result = client.manifest(arguments.tag, types["index"], {
            "schemaVersion": 2,
            "mediaType": types["index"],
            "manifests": children,
        })
        result["manifests"] = [child["digest"] for child in children]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
