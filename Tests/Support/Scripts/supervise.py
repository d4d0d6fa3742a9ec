#!/usr/bin/env python3
"""Runs a command as a child and ends it when this process's stdin reaches end of file (the test
process closed it or died), when the parent process changes, or on SIGTERM. Keeps test servers
from outliving the tests that started them.

Usage: supervise.py [--cleanup DIR]... COMMAND [ARG...]; each DIR is removed after the command was
ended (not when it exits by itself, so that its logs can be read)."""
import os
import shutil
import signal
import subprocess
import sys
import threading


def main() -> int:
    arguments = sys.argv[1:]
    cleanup = []
    while arguments[:1] == ["--cleanup"]:
        cleanup.append(arguments[1])
        arguments = arguments[2:]
    code, ended = supervise(arguments)
    for directory in cleanup if ended else []:
        shutil.rmtree(directory, ignore_errors=True)
    return code


def supervise(arguments):
    """Runs the command; returns its exit code and whether it was ended (rather than exiting)."""
    parent = os.getppid()
    child = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, close_fds=True)
    stop = threading.Event()

    def watch_stdin() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        if child.poll() is not None:
            return child.returncode, False
        if os.getppid() != parent:
            break
        stop.wait(0.2)
    child.terminate()
    try:
        child.wait(3)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    return 0, True


if __name__ == "__main__":
    sys.exit(main())
