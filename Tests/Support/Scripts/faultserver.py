#!/usr/bin/env python3
"""A scriptable HTTP server for transport tests (stdlib only, threaded).

Started as `faultserver.py`; it binds 127.0.0.1 on a free port and prints `PORT <n>`.
It then reads JSON commands, one per line, on stdin and answers each with one JSON line:
  {"op": "plan", "path": "/x", "steps": [STEP, ...]}  -> {"ok": true}
  {"op": "log"}                                       -> {"ok": true, "log": [REQUEST, ...]}
  {"op": "clear"}                                     -> {"ok": true}
Each request to a planned path takes the next step; after the last one, the last step repeats.
Unplanned paths answer 404. A STEP is an object with "kind":
  respond   status, headers {name: value}, body (base64)
  reset     body, after: send headers and `after` bytes of body, then close with RST (SO_LINGER 0)
  truncate  body, after: Content-Length of the whole body, send `after` bytes, close normally
  stall     body, after, seconds: send `after` bytes, then wait `seconds`, then close
  slow      body, chunk, interval: send the body `chunk` bytes at a time, `interval` seconds apart
  echo_auth answer 200 with the Authorization header received (empty body when none)
A REQUEST is {"method", "path", "host", "authorization", "userAgent", "accept", "clientPort"}.
A "respond" STEP with "keep": true leaves the connection open for the next request.
The server exits when stdin reaches end of file or its parent process changes.
"""
import base64
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
LOG = []
STOP = threading.Event()


def next_step(path):
    with LOCK:
        plan = PLANS.get(path)
        if plan is None:
            return None
        steps = plan["steps"]
        step = steps[min(plan["index"], len(steps) - 1)]
        plan["index"] += 1
        return step


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
                "clientPort": self.client_address[1],
            })
        step = next_step(path) or {"kind": "respond", "status": 404, "body": ""}
        self.close_connection = not step.get("keep", False)
        try:
            self.perform(step, send_body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

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
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())
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
        with LOCK:
            PLANS[request["path"]] = {"steps": request["steps"], "index": 0}
        return {"ok": True}
    if op == "log":
        with LOCK:
            return {"ok": True, "log": list(LOG)}
    if op == "clear":
        with LOCK:
            PLANS.clear()
            LOG.clear()
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
