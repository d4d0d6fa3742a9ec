"""Goal verdicts and machine-readable results for the benchmark scripts (scripts/bench-*.sh).

A script's measuring Python imports this (with scripts/bench on sys.path) and reports through one
Report: `goal` prints the human line with its verdict ("met" or "MISSED") and `value` a context
figure. When the environment names a file in BENCH_RESULTS, every call also appends one line
there, tab-separated, which scripts/bench.sh turns into the summary of BENCHMARKS.md:

    BENCH  KIND  MEASURE  VALUE  GOAL  VERDICT
    gate   goal  sha256sum -c / gate  3.41x  >= 3  met
    gate   value peak RSS of the gate  12.3 MB  -  -

Tabs and newlines inside a field become spaces, so a line always has six fields.
"""
import os
import signal
import sys


def stop_child_on_signals(running):
    """On SIGTERM or SIGINT, kill the child `running()` returns (a Popen or None) and exit.

    Runs once: a Ctrl-C reaches the measuring process both directly and as the shell's SIGTERM,
    and a second handler run inside the first one's wait would deadlock on Popen's lock. So no
    Popen.wait here: the child is killed and left for init to reap.
    """
    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        child = running()
        if child is not None and child.returncode is None:
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


class Report:
    def __init__(self, bench):
        self.bench = bench
        self.verdicts = []
        self.path = os.environ.get("BENCH_RESULTS") or None

    def _record(self, kind, measure, value, goal, verdict):
        if self.path is None:
            return
        fields = [self.bench, kind, measure, value, goal, verdict]
        line = "\t".join(" ".join(str(f).split()) or "-" for f in fields)
        with open(self.path, "a") as f:
            f.write(line + "\n")

    def goal(self, measure, value, goal, ok, detail=""):
        """Prints `measure: value (goal: goal)[; detail] -> met|MISSED` and records it."""
        verdict = "met" if ok else "MISSED"
        self.verdicts.append(ok)
        extra = f"; {detail}" if detail else ""
        print(f"{measure}: {value} (goal: {goal}){extra} -> {verdict}")
        self._record("goal", measure, value, goal, verdict)

    def value(self, measure, value, show=False):
        """Records a context figure (printed too when show is true)."""
        if show:
            print(f"{measure}: {value}")
        self._record("value", measure, value, "-", "-")

    @property
    def all_met(self):
        return all(self.verdicts)

    def exit_if_strict(self):
        """With STRICT=1 in the environment, exits 1 when a goal was missed."""
        if os.environ.get("STRICT") == "1" and not self.all_met:
            print(f"bench-{self.bench}: a goal was missed (STRICT=1)", file=sys.stderr)
            sys.exit(1)
