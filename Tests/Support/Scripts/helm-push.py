#!/usr/bin/env python3
"""Push charts to an OCI registry with real Helm (helm-python-sdk, Helm 4's Go SDK):
`helm push FILE oci://HOST/PATH [--plain-http]`; a chart directory is first packaged with
`helm package --version V DIR` into the destination.

stdin:  {"remote": "oci://HOST/PATH", "plainHTTP": BOOL, "destination": DIR,
         "charts": [{"source": CHART_DIR, "version": VERSION} or {"source": FILE.tgz}, ...]}
stdout: [{"file": path of the pushed .tgz, "sha256": HEX}, ...] in order.
"""
import hashlib, json, sys

import helm_python.chart as chart
import helm_python.registry as registry

request = json.load(sys.stdin)
results = []
for item in request["charts"]:
    path = item["source"]
    if not path.endswith(".tgz"):
        path = chart.package(path, destination=request["destination"], version=item["version"])
    registry.push(path, request["remote"], plain_http=request.get("plainHTTP", False))
    with open(path, "rb") as packaged:
        results.append({"file": path, "sha256": hashlib.sha256(packaged.read()).hexdigest()})
json.dump(results, sys.stdout)
