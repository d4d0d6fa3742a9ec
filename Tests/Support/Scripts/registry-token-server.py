#!/usr/bin/env python3
"""A token service for a docker-registry started with `auth: token` (stdlib and the openssl CLI).

Usage: registry-token-server.py --config CONFIG.json
CONFIG holds: signing_key, signing_cert (PEM; RS256, the certificate goes into the JWT header's
x5c so that the registry verifies it against its rootcertbundle), issuer, service, users
({name: password}), anonymous_pull (bool), token_field ("token", "access_token" or "both"),
log (a file: one JSON line per request), tls_cert and tls_key (optional: serve HTTPS).

It binds 127.0.0.1 on a free port and prints `PORT <n>`. GET /token?service=S&scope=repository:NAME:ACTIONS
(scope may repeat) answers 401 for wrong credentials, 401 for anonymous requests unless
anonymous_pull, else 200 {"token": JWT, "expires_in": 300, "issued_at": ...} granting a user
pull and push, an anonymous client pull only. Each request is logged as
{"path", "service", "scopes", "user", "granted"}. The server exits when stdin reaches end of file
or its parent process changes.
"""
import argparse
import base64
import datetime
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
CONFIG = {}
CERT_DER_B64 = ""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(payload: bytes) -> bytes:
    result = subprocess.run(["openssl", "dgst", "-sha256", "-sign", CONFIG["signing_key"]],
                            input=payload, capture_output=True, check=True)
    return result.stdout


def make_token(subject, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [CERT_DER_B64]}
    claims = {
        "iss": CONFIG["issuer"], "sub": subject or "", "aud": CONFIG["service"],
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8),
        "access": access,
    }
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url(json.dumps(claims, separators=(",", ":")).encode()))
    return signing_input + "." + b64url(sign(signing_input.encode()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenserver"
    sys_version = ""

    def log_message(self, *args):
        pass

    def reply(self, status, document, headers=None):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        scopes = query.get("scope", [])
        user = None
        refused = False
        authorization = self.headers.get("Authorization")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            try:
                name, _, password = base64.b64decode(value).decode().partition(":")
            except Exception:
                name, password = "", None
            if scheme.lower() == "basic" and CONFIG["users"].get(name) == password and password is not None:
                user = name
            else:
                refused = True
        granted = []
        if url.path != "/token":
            status = 404
        elif refused or (user is None and not CONFIG["anonymous_pull"]):
            status = 401
        else:
            status = 200
            for scope in scopes:
                parts = scope.split(":")
                if len(parts) != 3 or parts[0] != "repository":
                    continue
                allowed = {"pull", "push"} if user else {"pull"}
                actions = [a for a in parts[2].split(",") if a in allowed]
                granted.append({"type": "repository", "name": parts[1], "actions": actions})
        with LOCK, open(CONFIG["log"], "a") as log:
            log.write(json.dumps({"path": url.path, "service": (query.get("service") or [None])[0],
                                  "scopes": scopes, "user": user, "granted": granted,
                                  "authorized": authorization is not None}) + "\n")
        if status == 404:
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        if status == 401:
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                       {"WWW-Authenticate": 'Basic realm="chartsync test token service"'})
            return
        token = make_token(user, granted)
        document = {"expires_in": 300,
                    "issued_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        field = CONFIG.get("token_field", "token")
        if field in ("token", "both"):
            document["token"] = token
        if field in ("access_token", "both"):
            document["access_token"] = token
        self.reply(200, document)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


def watch_parent(parent):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    global CONFIG, CERT_DER_B64
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    arguments = parser.parse_args()
    with open(arguments.config) as f:
        CONFIG = json.load(f)
    with open(CONFIG["signing_cert"]) as f:
        pem = f.read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    CERT_DER_B64 = "".join(body.split())
    parent = os.getppid()
    server = Server(("127.0.0.1", 0), Handler)
    if CONFIG.get("tls_cert"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(CONFIG["tls_cert"], CONFIG["tls_key"])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    for _ in sys.stdin:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
