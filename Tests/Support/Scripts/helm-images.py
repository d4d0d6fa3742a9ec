#!/usr/bin/env python3
"""Render chart tarballs with real Helm (helm-python-sdk, Helm 4's Go SDK) with default values and
list the values of `image` and `<name>Image` keys in the rendered manifests (NOTES.txt left out).

stdin:  {"charts": [PATH, ...]}
stdout: [{"images": [TEXT, ...]} or {"error": "..."}, ...] in chart order; images sorted, unique,
        as rendered (quotes and comments removed, not normalized). Release "release", namespace
        "chartsync", as an install.
"""
import json, re, sys

from helm_python.chart import Chart

KEY = re.compile(r'^\s*(?:-\s+)?["\']?(image|[A-Za-z0-9_]*[a-z0-9]Image)["\']?\s*:\s*(\S.*?)\s*$')

request = json.load(sys.stdin)
results = []
for path in request["charts"]:
    try:
        # Not "default": the NVIDIA charts refuse the default namespace (allowDefaultNamespace).
        manifests = Chart.load(path).render(name="release", namespace="chartsync", is_install=True)
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
