#!/usr/bin/env python3
"""Ask real Helm (helm-python-sdk, Helm 4's Go SDK) which chart version it pulls.

stdin:  {"cases": [{"repo": URL, "chart": NAME, "version": CONSTRAINT (optional)}, ...]}
stdout: [{"file": "<name>-<version>.tgz"} or {"error": "..."}, ...] in case order.
Each case pulls into a fresh directory; the file Helm writes names the version it chose.
"""
import json, os, sys, tempfile

import helm_python.registry as registry

request = json.load(sys.stdin)
results = []
for case in request["cases"]:
    with tempfile.TemporaryDirectory() as dest:
        try:
            registry.pull(case["chart"], repo_url=case["repo"], version=case.get("version"), destination=dest)
            files = sorted(os.listdir(dest))
            results.append({"file": files[0]} if len(files) == 1 else {"error": f"files: {files}"})
        except Exception as error:  # Helm's "no chart version found" and the like
            results.append({"error": str(error).splitlines()[0] if str(error) else type(error).__name__})
json.dump(results, sys.stdout)
