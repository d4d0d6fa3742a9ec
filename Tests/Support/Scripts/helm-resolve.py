#!/usr/bin/env python3
"""Ask real Helm (helm-python-sdk, Helm 4's Go SDK) which chart version it pulls.

stdin:  {"cases": [{"repo": URL, "chart": NAME, "version": CONSTRAINT (optional),
                    "plainHTTP": BOOL (optional)}, ...]}
stdout: [{"file": "<name>-<version>.tgz", "sha256": HEX} or {"error": "..."}, ...] in case order.
An http(s) repo is a chart repository (`helm pull NAME --repo URL`); an `oci://HOST/PATH` repo is
a registry (`helm pull oci://HOST/PATH/NAME`, `--plain-http` with plainHTTP).
Each case pulls into a fresh directory; the file Helm writes names the version it chose.
"""
import hashlib, json, os, sys, tempfile

import helm_python.registry as registry

request = json.load(sys.stdin)
results = []
for case in request["cases"]:
    with tempfile.TemporaryDirectory() as dest:
        try:
            if case["repo"].startswith("oci://"):
                registry.pull(case["repo"].rstrip("/") + "/" + case["chart"], version=case.get("version"),
                              destination=dest, plain_http=case.get("plainHTTP", False))
            else:
                registry.pull(case["chart"], repo_url=case["repo"], version=case.get("version"), destination=dest)
            files = sorted(os.listdir(dest))
            if len(files) == 1:
                with open(os.path.join(dest, files[0]), "rb") as pulled:
                    results.append({"file": files[0], "sha256": hashlib.sha256(pulled.read()).hexdigest()})
            else:
                results.append({"error": f"files: {files}"})
        except Exception as error:  # Helm's "no chart version found" and the like
            results.append({"error": str(error).splitlines()[0] if str(error) else type(error).__name__})
json.dump(results, sys.stdout)
