#!/usr/bin/env python3
"""A scriptable HTTP server for transport tests (stdlib only, threaded).

Started as `faultserver.py`; it binds 127.0.0.1 on a free port and prints `PORT <n>`.
It then reads JSON commands, one per line, on stdin and answers each with one JSON line:
  {"op": "plan", "path": "/x", "steps": [STEP, ...]}  -> {"ok": true}
      optional "method": only requests with this method; "prefix": true: every path starting with "path"
  {"op": "upstream", "url": "http://127.0.0.1:N", "location_host": "localhost:P",
   "inject_host": "localhost", "inject_authorization": "Basic ..."}  -> {"ok": true}
      unplanned requests (and "forward" steps) go to this server (a proxy): the Host header as
      received; Location headers of answers get "location_host" as their host when given; a request
      whose Host starts with "inject_host" is sent with "inject_authorization" (a pre-signed URL)
  {"op": "log"}                                       -> {"ok": true, "log": [REQUEST, ...]}
  {"op": "clear"}                                     -> {"ok": true}
  {"op": "auth", "prefix": "/v2/", "authorization": "Basic ...", "challenge": "Basic realm=..."}
                                                      -> {"ok": true}
A request whose path starts with an auth rule's prefix and whose Authorization header is not
exactly the rule's gets 401 with the challenge as WWW-Authenticate (no plan step is taken).
Each request matching a plan (exact path and method plans first, then the longest prefix) takes
the next step; after the last one, the last step repeats. Unplanned paths answer 404 (or go
upstream). A request body is read (and dropped) before an answer. A STEP is an object with "kind":
  respond   status, headers {name: value}, body (base64)
  reset     body, after: send headers and `after` bytes of body, then close with RST (SO_LINGER 0)
  truncate  body, after: Content-Length of the whole body, send `after` bytes, close normally
  stall     body, after, seconds: send `after` bytes, then wait `seconds`, then close
  slow      body, chunk, interval: send the body `chunk` bytes at a time, `interval` seconds apart
  echo_auth answer 200 with the Authorization header received (empty body when none)
  forward   send the request upstream (after "delay" seconds) and relay the answer
  cut       send the request upstream with only `after` bytes of its body, then reset both connections
  reset_request  read `after` bytes of the request body, then close with RST (no answer)
A REQUEST is {"method", "path", "host", "authorization", "userAgent", "accept", "contentRange",
"contentLength", "clientPort"}.
A "respond" STEP with "keep": true leaves the connection open for the next request.
The server exits when stdin reaches end of file or its parent process changes.
"""
import base64
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
PLANS = {}
AUTH = []
LOG = []
UPSTREAM = {}
STOP = threading.Event()


def next_step(method, path):
    with LOCK:
        candidates = [(key, plan) for key, plan in PLANS.items()
                      if (plan["method"] is None or plan["method"] == method)
                      and (path == plan["path"] or (plan["prefix"] and path.startswith(plan["path"])))]
        if not candidates:
            return None
        # Exact plans before prefix ones, a method plan before one for any method, longer prefixes first.
        key, plan = min(candidates, key=lambda c: (c[1]["prefix"], c[1]["method"] is None, -len(c[1]["path"])))
        steps = plan["steps"]
        step = steps[min(plan["index"], len(steps) - 1)]
        plan["index"] += 1
        return step


def refusal(path, authorization):
    with LOCK:
        for rule in AUTH:
            if path.startswith(rule["prefix"]) and authorization != rule["authorization"]:
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                return {"kind": "respond", "status": 401, "body": base64.b64encode(body).decode(),
                        "headers": {"WWW-Authenticate": rule["challenge"], "Content-Type": "application/json"}}
    return None


def rewrite_location(value):
    host = UPSTREAM.get("location_host")
    if not host or "://" not in value:
        if host and value.startswith("/"):
            return "http://" + host + value
        return value
    scheme, rest = value.split("://", 1)
    path = rest[rest.index("/"):] if "/" in rest else ""
    return scheme + "://" + host + path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultserver"
    sys_version = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.answer(send_body=True)

    def do_HEAD(self):
        self.answer(send_body=False)

    def do_POST(self):
        self.answer(send_body=True)

    def do_PUT(self):
        self.answer(send_body=True)

    def do_PATCH(self):
        self.answer(send_body=True)

    def do_DELETE(self):
        self.answer(send_body=True)

    def body_pieces(self, limit=None):
        """The request body in pieces (Content-Length or chunked), at most `limit` bytes."""
        left = limit if limit is not None else float("inf")
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while left > 0:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return
                data = self.rfile.read(size)
                self.rfile.readline()
                yield data[:int(min(left, len(data)))]
                left -= len(data)
            return
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0 and left > 0:
            data = self.rfile.read(int(min(1 << 20, length, left)))
            if not data:
                return
            length -= len(data)
            left -= len(data)
            yield data

    def answer(self, send_body):
        path = self.path.split("?", 1)[0]
        with LOCK:
            LOG.append({
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("Host"),
                "authorization": self.headers.get("Authorization"),
                "userAgent": self.headers.get("User-Agent"),
                "accept": self.headers.get("Accept"),
                "contentRange": self.headers.get("Content-Range"),
                "contentLength": self.headers.get("Content-Length"),
                "clientPort": self.client_address[1],
            })
        step = refusal(path, self.headers.get("Authorization")) or next_step(self.command, path)
        if step is None:
            step = {"kind": "forward"} if UPSTREAM.get("url") else {"kind": "respond", "status": 404, "body": ""}
        self.close_connection = not step.get("keep", False)
        try:
            kind = step.get("kind", "respond")
            if kind in ("forward", "cut"):
                self.forward(step, send_body)
                return
            if kind == "reset_request":
                for _ in self.body_pieces(step.get("after", 0)):
                    pass
                self.reset()
                return
            for _ in self.body_pieces():
                pass
            self.perform(step, send_body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(self.connection.detach())

    def forward(self, step, send_body):
        if step.get("delay"):
            STOP.wait(step["delay"])
        url = UPSTREAM["url"]
        host, _, port = url.split("://", 1)[1].rstrip("/").partition(":")
        upstream = http.client.HTTPConnection(host, int(port or 80), timeout=120)
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        for name, value in self.headers.items():
            if name.lower() in ("connection", "keep-alive", "transfer-encoding", "proxy-connection"):
                continue
            upstream.putheader(name, value)
        inject = UPSTREAM.get("inject_host")
        if inject and (self.headers.get("Host") or "").startswith(inject) and not self.headers.get("Authorization"):
            upstream.putheader("Authorization", UPSTREAM.get("inject_authorization", ""))
        body = None
        if chunked:
            body = b"".join(self.body_pieces())
            upstream.putheader("Content-Length", str(len(body)))
        upstream.endheaders()
        if step.get("kind") == "cut":
            for piece in self.body_pieces(step.get("after", 0)):
                upstream.send(piece)
            time.sleep(0.2)
            upstream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            upstream.close()
            self.reset()
            return
        if body is not None:
            upstream.send(body)
        else:
            for piece in self.body_pieces():
                upstream.send(piece)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                continue
            if name.lower() == "location":
                value = rewrite_location(value)
            self.send_header(name, value)
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if send_body and self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    def head(self, status, length, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def perform(self, step, send_body):
        kind = step.get("kind", "respond")
        body = base64.b64decode(step.get("body", ""))
        if kind == "echo_auth":
            body = (self.headers.get("Authorization") or "").encode()
            self.head(200, len(body), {"Content-Type": "text/plain"})
            if send_body:
                self.wfile.write(body)
            return
        if kind == "respond":
            self.head(step.get("status", 200), len(body), step.get("headers"))
            if send_body:
                self.wfile.write(body)
            return
        self.head(200, len(body), step.get("headers"))
        if not send_body:
            return
        after = min(step.get("after", 0), len(body))
        if kind == "reset":
            self.wfile.write(body[:after])
            time.sleep(0.05)
            self.reset()
        elif kind == "truncate":
            self.wfile.write(body[:after])
        elif kind == "stall":
            self.wfile.write(body[:after])
            STOP.wait(step.get("seconds", 60))
        elif kind == "slow":
            chunk = max(1, step.get("chunk", 1))
            for offset in range(0, len(body), chunk):
                self.wfile.write(body[offset:offset + chunk])
                if STOP.wait(step.get("interval", 0.1)):
                    return
        else:
            raise ValueError("unknown step kind " + kind)

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, OSError, ValueError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


def command(line):
    request = json.loads(line)
    op = request.get("op")
    if op == "plan":
        method = request.get("method")
        prefix = bool(request.get("prefix"))
        with LOCK:
            PLANS[(method, request["path"], prefix)] = {"steps": request["steps"], "index": 0, "method": method,
                                                        "path": request["path"], "prefix": prefix}
        return {"ok": True}
    if op == "upstream":
        with LOCK:
            UPSTREAM.clear()
            UPSTREAM.update({k: v for k, v in request.items() if k != "op"})
        return {"ok": True}
    if op == "log":
        with LOCK:
            return {"ok": True, "log": list(LOG)}
    if op == "auth":
        with LOCK:
            AUTH.append({"prefix": request["prefix"], "authorization": request["authorization"],
                         "challenge": request["challenge"]})
        return {"ok": True}
    if op == "clear":
        with LOCK:
            AUTH.clear()
            PLANS.clear()
            LOG.clear()
            UPSTREAM.clear()
        return {"ok": True}
    return {"ok": False, "error": "unknown op %r" % op}


def watch_parent(parent):
    while not STOP.wait(0.5):
        if os.getppid() != parent:
            os._exit(0)


def main():
    parent = os.getppid()
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            reply = command(line)
        except Exception as error:  # report, keep serving
            reply = {"ok": False, "error": str(error)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    STOP.set()
    os._exit(0)


if __name__ == "__main__":
    main()
