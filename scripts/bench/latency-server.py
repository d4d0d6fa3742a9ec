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
client sent it, so that URLs the upstream writes lead back to the proxy; Expect is answered here)
and body (a body over 1 MiB, or a chunked one as skopeo sends layers, streamed as it arrives),
over one keep-alive connection to the upstream per client connection, and sends back the answer
with its status and headers (hop-by-hop headers dropped; a body of unknown length is sent
chunked). Every request waits the delay once, before it is forwarded: the proxy adds latency
per request, as a remote registry does, and should add no throughput limit of its own. So bodies
(blobs, in both directions) do not pass through Python: os.splice moves them from one socket to
the other through a pipe of 1 MiB, inside the kernel and without the GIL (a plain 1 MiB recv/send
loop where Python lacks os.splice). Python reads only heads, chunk-size lines, the bytes that
arrived with a head, request bodies up to 1 MiB (kept to be sent again on a fresh connection) and
an answer that runs to the end of the connection; a Content-Length answer keeps its length. Measured on the 2-core machine the benchmarks run on (2026-11, load about 8): one
1 GiB blob took 1.11 s through this proxy, 0.74 s straight from the registry, and 1.29 s through
the former proxy (http.client, 64 KiB reads and writes); its CPU time per GiB went from 0.56 s to
0.24 s (what is left is the kernel's TCP work of one more loopback hop); 20 images of 2 GiB with
curl --parallel-max 8 took 2.52 s through it against 3.15 s through the former one (1.80 s
straight, without the latency). As a file server it sends files with sendfile(2).

`GET /_latency/requests` (answered at once, never forwarded) returns the requests forwarded so far
as JSON, counted by method and the last path element but one of the distribution API
(`{"GET manifests": 200, "GET blobs": 200, ...}`), and under "connections" the client connections
that carried them, so a benchmark can say what each tool asked for and how often it connected.
"""
import argparse
import fcntl
import functools
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}
IO_TIMEOUT = 300                 # seconds a socket may wait for the peer (also bounds a splice)
PIPE_SIZE = 1 << 20              # bytes one splice moves at most (the pipe's capacity; Linux's default limit)
HEAD_LIMIT = 1 << 20             # the largest response head read from the upstream


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

    def copyfile(self, source, outputfile):
        # sendfile(2): the kernel copies the file to the socket, no 64 KiB round trips through Python.
        self.connection.sendfile(source)

    def log_message(self, format, *args):
        pass


def set_timeouts(sock):
    """Kernel receive and send timeouts on a blocking socket: they bound recv, send and splice alike
    (a Python-level timeout would make the socket non-blocking, and splice would fail with EAGAIN)."""
    timeval = struct.pack("ll", IO_TIMEOUT, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


class Pipe:
    """The pipe through which os.splice moves a body from one socket to the other inside the kernel:
    the bytes never enter Python, and the thread holds no GIL while they move."""

    def __init__(self):
        self.read_end, self.write_end = os.pipe()
        try:
            fcntl.fcntl(self.write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass   # the default (64 KiB) still works, in more calls
        self.size = fcntl.fcntl(self.write_end, fcntl.F_GETPIPE_SZ)

    def close(self):
        os.close(self.read_end)
        os.close(self.write_end)


def relay(pipe, source, destination, length):
    """Moves exactly `length` bytes from the socket `source` to the socket `destination` (with
    os.splice through `pipe` where Python has it, else through one 1 MiB buffer); ConnectionError
    when the source ends first."""
    if hasattr(os, "splice"):
        src, dst = source.fileno(), destination.fileno()
        while length > 0:
            moved = os.splice(src, pipe.write_end, min(length, pipe.size))
            if moved == 0:
                raise ConnectionError("the body ended early")
            length -= moved
            while moved > 0:
                moved -= os.splice(pipe.read_end, dst, moved)
        return
    buffer = memoryview(bytearray(min(length, PIPE_SIZE)))
    while length > 0:
        received = source.recv_into(buffer, min(length, len(buffer)))
        if received == 0:
            raise ConnectionError("the body ended early")
        destination.sendall(buffer[:received])
        length -= received


class Upstream:
    """One keep-alive connection to the upstream server (blocking, TCP_NODELAY) and the bytes read
    from it past the last response head."""

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=IO_TIMEOUT)
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        set_timeouts(self.sock)
        self.buffer = bytearray()

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("the upstream closed the connection")
        self.buffer += data

    def head(self):
        """The next final response's status, reason and headers (1xx answers skipped)."""
        while True:
            while (end := self.buffer.find(b"\r\n\r\n")) < 0:
                if len(self.buffer) > HEAD_LIMIT:
                    raise ConnectionError("the upstream's response head is too large")
                self._fill()
            lines = bytes(self.buffer[:end]).decode("iso-8859-1").split("\r\n")
            del self.buffer[:end + 4]
            version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
            headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
            if not 100 <= int(status) < 200:
                return int(status), reason, headers, version

    def line(self):
        """One line (a chunk size, a trailer), without its CRLF."""
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > HEAD_LIMIT:
                raise ConnectionError("the upstream's chunk line is too long")
            self._fill()
        line = bytes(self.buffer[:end])
        del self.buffer[:end + 2]
        return line

    def take(self, limit):
        """Up to `limit` bytes already read past the response head."""
        data = bytes(self.buffer[:limit])
        del self.buffer[:limit]
        return data


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    delay = 0.0
    upstream = ("127.0.0.1", 80)   # host, port of the upstream (plain HTTP)
    upstream_connection = None      # this client connection's keep-alive Upstream
    pipe = None                     # this client connection's Pipe, made at the first body relayed
    counted = False                 # whether this client connection is in counts["connections"]

    counts = {}
    counts_lock = threading.Lock()
    BUFFERED = 1 << 20   # request bodies up to this size are read before forwarding

    def setup(self):
        super().setup()
        set_timeouts(self.connection)

    def body_to(self, destination, length):
        """Moves the next `length` bytes of the request body to `destination`: what the request
        reader holds already, then the rest straight from the client's socket."""
        held = self.rfile.peek(1)[:length]   # what the reader holds (one read from the socket if nothing)
        if not held:
            raise ConnectionError("the request body ended early")
        destination.sendall(self.rfile.read(len(held)))   # the reader holds nothing more of the body now
        if length > len(held):
            self.pipe = self.pipe or Pipe()
            relay(self.pipe, self.connection, destination, length - len(held))

    def chunked_body_to(self, destination):
        """Moves a chunked request body to `destination`, chunk by chunk (trailers dropped)."""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                destination.sendall(b"0\r\n\r\n")
                return
            destination.sendall(b"%x\r\n" % size)
            self.body_to(destination, size)
            self.rfile.readline()
            destination.sendall(b"\r\n")

    def response_body(self, upstream, length):
        """Moves `length` bytes of the upstream's response body to the client."""
        held = upstream.take(length)
        if held:
            self.connection.sendall(held)
        if length > len(held):
            self.pipe = self.pipe or Pipe()
            relay(self.pipe, upstream.sock, self.connection, length - len(held))

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
        length = 0 if chunked_body else int(self.headers.get("Content-Length") or 0)
        # A small body is read first (and can be sent again on a fresh connection); a large one
        # (an image layer being pushed) and a chunked one are streamed upstream as they arrive.
        streamed = chunked_body or length > self.BUFFERED
        body = b"" if streamed or not length else self.rfile.read(length)
        headers = {}   # a header sent several times (skopeo's Accept) as one, its values joined
        for k, v in self.headers.items():
            # Expect: this server answered it already (100 Continue), the upstream gets the body at once.
            if k.lower() not in HOP_BY_HOP and k.lower() != "expect":
                same = next((h for h in headers if h.lower() == k.lower()), k)
                headers[same] = headers[same] + ", " + v if same in headers else v
        if chunked_body:
            headers["Transfer-Encoding"] = "chunked"
        head = (f"{self.command} {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n").encode("iso-8859-1")
        for attempt in (1, 2):   # once more on a fresh connection if the kept one was closed
            try:
                if self.upstream_connection is None:
                    self.upstream_connection = Upstream(self.upstream)
                upstream = self.upstream_connection
                upstream.sock.sendall(head + body)
                if chunked_body:
                    self.chunked_body_to(upstream.sock)
                elif streamed:
                    self.body_to(upstream.sock, length)
                status, reason, response_headers, version = upstream.head()
                break
            except (OSError, ValueError, IndexError):
                if self.upstream_connection is not None:
                    self.upstream_connection.close()
                self.upstream_connection = None
                if attempt == 2 or streamed:   # a streamed body cannot be sent again
                    self.send_error(502)
                    self.close_connection = True
                    return
        names = {k.lower(): v for k, v in response_headers}
        no_body = self.command == "HEAD" or status in (204, 304)
        upstream_chunked = "chunked" in names.get("transfer-encoding", "").lower()
        known_length = "content-length" in names and not upstream_chunked
        closes = "close" in names.get("connection", "").lower() or version == "HTTP/1.0"
        self.send_response_only(status, reason)
        for k, v in response_headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        chunked = not no_body and not known_length   # a body of unknown length goes chunked
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if no_body:
                pass
            elif known_length:
                self.response_body(upstream, int(names["content-length"]))
            elif upstream_chunked:
                while size := int(upstream.line().split(b";")[0].strip() or b"0", 16):
                    self.connection.sendall(b"%x\r\n" % size)
                    self.response_body(upstream, size)
                    upstream.line()
                    self.connection.sendall(b"\r\n")
                while upstream.line():
                    pass
                self.connection.sendall(b"0\r\n\r\n")
            else:   # the body runs to the end of the connection
                closes = True
                while True:
                    data = upstream.take(1 << 20) or upstream.sock.recv(1 << 20)
                    if not data:
                        break
                    self.connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))
                self.connection.sendall(b"0\r\n\r\n")
        except (OSError, ValueError):
            closes = True
            self.close_connection = True   # the client saw part of an answer: end its connection
        if closes:
            upstream.close()
            self.upstream_connection = None

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def finish(self):
        if self.upstream_connection is not None:
            self.upstream_connection.close()
        if self.pipe is not None:
            self.pipe.close()
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
