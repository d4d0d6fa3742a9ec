#!/usr/bin/env python3
"""Render chart tarballs with real Helm (helm-python-sdk, Helm 4's Go SDK) with default values, or
with values files as `helm template -f a -f b` applies them, and list the values of `image` and
`<name>Image` keys in the rendered manifests (NOTES.txt left out).

stdin:  {"charts": [PATH or {"chart": PATH, "values": [FILE, ...]}, ...]}
stdout: [{"images": [TEXT, ...]} or {"error": "..."}, ...] in chart order; images sorted, unique,
        as rendered (quotes and comments removed, not normalized). Release "release", namespace
        "chartsync", as an install.
"""
import json, re, sys

from helm_python.chart import Chart, values_from_yaml


def merge_maps(a, b):
    """Helm's mergeMaps (pkg/cli/values/options.go), which merges `-f` files in order: b's keys
    win, maps present in both merge recursively, anything else (null included) replaces."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = value
    return out


def user_values(files):
    """The values files parsed by Helm's own YAML reader and merged in order; None for none."""
    if not files:
        return None
    merged = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            merged = merge_maps(merged, values_from_yaml(handle.read()) or {})
    return merged


KEY = re.compile(r'^\s*(?:-\s+)?["\']?(image|[A-Za-z0-9_]*[a-z0-9]Image)["\']?\s*:\s*(\S.*?)\s*$')

request = json.load(sys.stdin)
results = []
for item in request["charts"]:
    path, files = (item, []) if isinstance(item, str) else (item["chart"], item.get("values") or [])
    try:
        # Not "default": the NVIDIA charts refuse the default namespace (allowDefaultNamespace).
        manifests = Chart.load(path).render(values=user_values(files), name="release", namespace="chartsync",
                                            is_install=True)
    except Exception as error:
        results.append({"error": str(error).splitlines()[0] if str(error) else type(error).__name__})
        continue
    images = set()
    for name, text in manifests.items():
        if name.endswith("/NOTES.txt"):
            continue
        for line in text.splitlines():
            match = KEY.match(line)
            if not match:
                continue
            value = match.group(2)
            if value[:1] in "{[|>&*!#":
                continue
            if value[:1] in "\"'":
                end = value.find(value[0], 1)
                value = value[1:end] if end > 0 else value
            else:
                value = value.split(" #")[0].strip()
            images.add(value)
    results.append({"images": sorted(images)})
json.dump(results, sys.stdout)
