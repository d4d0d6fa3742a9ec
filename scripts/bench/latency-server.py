#!/usr/bin/env python3
"""A static HTTP/1.1 file server that waits a fixed delay before answering every request.

Used by scripts/bench-pull.sh to stand in for a remote chart repository: keep-alive capable,
one daemon thread per connection, a deep listen backlog, TCP_NODELAY (so small responses are
never held back by Nagle + delayed ACK), no logging. Binds 127.0.0.1 on a free port and writes
the port to --port-file once it accepts connections.

    latency-server.py --root DIR --delay 0.05 --port-file FILE
"""
import argparse
import functools
import http.server
import os
import socket
import sys
import time


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
    parser.add_argument("--root", required=True)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds to wait before every answer")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

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
