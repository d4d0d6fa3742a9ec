#!/usr/bin/env python3
"""An HTTP/1.1 server that waits a fixed delay before answering every request: a static file
server, or with --upstream a reverse proxy.

Used by scripts/bench-pull.sh (static files: a chart repository), scripts/bench-oci.sh and
scripts/bench-images.sh (reverse proxy in front of a local docker-registry) to stand in for a
remote server: keep-alive capable, one daemon thread per connection, a deep listen backlog,
TCP_NODELAY (so small responses are never held back by Nagle + delayed ACK), no logging. Binds
127.0.0.1 on a free port and writes the port to --port-file once it accepts connections.

    latency-server.py --root DIR --delay 0.05 --port-file FILE
    latency-server.py --upstream http://127.0.0.1:PORT --delay 0.05 --port-file FILE

As a proxy it forwards GET, HEAD, POST, PUT, PATCH and DELETE with their headers (Host as the
client sent it, so that URLs the upstream writes lead back to the proxy) and body (a body over
1 MiB, or a chunked one as skopeo sends layers, streamed as it arrives), over one
keep-alive connection to the upstream per client connection, and streams the answer back with
its status and headers (hop-by-hop headers dropped; a body of unknown length is sent chunked).
Every request waits the delay once, before it is forwarded. `GET /_latency/requests` (answered
at once, never forwarded) returns the requests forwarded so far as JSON, counted by method and
the last path element but one of the distribution API (`{"GET manifests": 200, "GET blobs": 200,
...}`), and under "connections" the client connections that carried them, so a benchmark can say
what each tool asked for and how often it connected.
"""
import argparse
import functools
import http.client
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    delay = 0.0

    def do_GET(self):
        time.sleep(self.delay)
        super().do_GET()

    def do_HEAD(self):
        time.sleep(self.delay)
        super().do_HEAD()

    def log_message(self, format, *args):
        pass


class Limited:
    """The next `length` bytes of a stream, read in pieces (a request body streamed upstream)."""

    def __init__(self, stream, length):
        self.stream, self.left = stream, length

    def read(self, size=-1):
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return data


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    delay = 0.0
    upstream = ("127.0.0.1", 80)   # host, port of the upstream (plain HTTP)
    upstream_connection = None      # this client connection's keep-alive connection upstream
    counted = False                 # whether this client connection is in counts["connections"]

    counts = {}
    counts_lock = threading.Lock()
    BUFFERED = 1 << 20   # request bodies up to this size are read before forwarding

    def chunks(self):
        """The chunks of a chunked request body, as they arrive (trailers skipped)."""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return
            data = self.rfile.read(size)
            self.rfile.readline()
            yield data

    def forward(self):
        if self.command == "GET" and self.path == "/_latency/requests":
            with self.counts_lock:
                body = json.dumps(self.counts, sort_keys=True).encode()
            self.send_response_only(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        parts = urllib.parse.urlsplit(self.path).path.rstrip("/").split("/")
        kind = self.command + " " + (parts[-2] if len(parts) >= 2 and parts[-2] else parts[-1] or "/")
        with self.counts_lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if not self.counted:
                self.counts["connections"] = self.counts.get("connections", 0) + 1
                self.counted = True
        time.sleep(self.delay)
        chunked_body = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        length = int(self.headers.get("Content-Length") or 0)
        # A small body is read first (and can be sent again on a fresh connection); a large one
        # (an image layer being pushed) and a chunked one are streamed upstream as they arrive.
        streamed = chunked_body or length > self.BUFFERED
        body = None if streamed or not length else self.rfile.read(length)
        headers = {}   # a header sent several times (skopeo's Accept) as one, its values joined
        for k, v in self.headers.items():
            if k.lower() not in HOP_BY_HOP:
                same = next((h for h in headers if h.lower() == k.lower()), k)
                headers[same] = headers[same] + ", " + v if same in headers else v
        for attempt in (1, 2):   # once more on a fresh connection if the kept one was closed
            if self.upstream_connection is None:
                self.upstream_connection = http.client.HTTPConnection(*self.upstream, timeout=300,
                                                                      blocksize=1 << 16)
            try:
                if chunked_body:
                    self.upstream_connection.request(self.command, self.path, body=self.chunks(), headers=headers,
                                                     encode_chunked=True)
                elif streamed:
                    self.upstream_connection.request(self.command, self.path, body=Limited(self.rfile, length),
                                                     headers=headers)
                else:
                    self.upstream_connection.request(self.command, self.path, body=body, headers=headers)
                response = self.upstream_connection.getresponse()
                break
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self.upstream_connection.close()
                self.upstream_connection = None
                if attempt == 2 or streamed:   # a streamed body cannot be sent again
                    self.send_error(502)
                    self.close_connection = True
                    return
        self.send_response_only(response.status, response.reason)
        known_length = response.getheader("Content-Length") is not None
        for k, v in response.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        chunked = not known_length and self.command != "HEAD" and response.status not in (204, 304)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while chunk := response.read(1 << 16):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if response.will_close:
            self.upstream_connection.close()
            self.upstream_connection = None

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def finish(self):
        if self.upstream_connection is not None:
            self.upstream_connection.close()
        super().finish()

    def log_message(self, format, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # A client closing a keep-alive connection is not an error worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--root", help="serve the files of this directory")
    source.add_argument("--upstream", help="proxy to this http://HOST:PORT")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds to wait before every answer")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

    if args.upstream:
        url = urllib.parse.urlsplit(args.upstream)
        if url.scheme != "http" or not url.hostname:
            parser.error("--upstream must be http://HOST[:PORT]")
        ProxyHandler.upstream = (url.hostname, url.port or 80)
        ProxyHandler.delay = args.delay
        handler = ProxyHandler
    else:
        Handler.delay = args.delay
        handler = functools.partial(Handler, directory=os.path.abspath(args.root))
    server = Server(("127.0.0.1", 0), handler)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
