#!/usr/bin/env python3
"""Pull charts from an OCI registry with real Helm (helm-python-sdk, Helm 4's Go SDK).

stdin:  {"charts": [{"ref": "oci://HOST/PATH/NAME", "version": "V"}, ...], "plainHTTP": bool,
         "username": "...", "password": "..."}   (a CA to trust: $SSL_CERT_FILE, as Go reads it)
stdout: [{"file": "<file Helm wrote>", "sha256": "<hex of its bytes>"} or {"error": "..."}, ...]
Each chart is pulled into a fresh directory.
"""
import hashlib, json, os, sys, tempfile

import helm_python.registry as registry

request = json.load(sys.stdin)
plain = request.get("plainHTTP", False)
logins = tempfile.TemporaryDirectory()
# As a site would: `helm registry login` (into a file of its own), then pulls.
client = registry.RegistryClient(plain_http=plain, credentials_file=os.path.join(logins.name, "config.json"))
if request.get("username"):
    host = request["charts"][0]["ref"][len("oci://"):].split("/")[0]
    client.login(host, request["username"], request["password"], plain_http=plain)
results = []
for chart in request["charts"]:
    with tempfile.TemporaryDirectory() as dest:
        try:
            client.pull(chart["ref"], version=chart["version"], destination=dest, plain_http=plain)
            files = sorted(os.listdir(dest))
            if len(files) != 1:
                results.append({"error": f"files: {files}"})
                continue
            with open(os.path.join(dest, files[0]), "rb") as handle:
                results.append({"file": files[0], "sha256": hashlib.sha256(handle.read()).hexdigest()})
        except Exception as error:
            results.append({"error": str(error).splitlines()[0] if str(error) else type(error).__name__})
json.dump(results, sys.stdout)
