import ChartSyncTestSupport
import Foundation

/// Python 3 entry constructors shared by the chart and bundle crafting preludes: `f` (file),
/// `d` (directory), `sym`, `hard`, `dev`, all owned by uid/gid 0 named `OWNER`.
let tarEntryHelpers = #"""
def info(name, type, mode, size=0):
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.size, t.mtime, t.uid, t.gid, t.uname, t.gname = type, mode, size, 0, 0, 0, OWNER, OWNER
    return t

def f(name, data=b"x", mode=0o644, pax=None):
    t = info(name, tarfile.REGTYPE, mode, len(data))
    if pax: t.pax_headers = pax
    return (t, data)

def d(name, mode=0o755):
    return (info(name, tarfile.DIRTYPE, mode), None)

def sym(name, target):
    t = info(name, tarfile.SYMTYPE, 0o777)
    t.linkname = target
    return (t, None)

def hard(name, target):
    t = info(name, tarfile.LNKTYPE, 0o644)
    t.linkname = target
    return (t, None)

def dev(name, type):
    t = info(name, type, 0o644)
    t.devmajor, t.devminor = 1, 3
    return (t, None)

def header(t):
    return t.tobuf(fmt, "utf-8", "surrogateescape")

def padded(data):
    return data + b"\0" * (-len(data) % 512)

"""#

/// Python 3: when the body did not set `raw`, the uncompressed tar of `entries` plus `tail`.
let tarBuildRaw = #"""
if raw is None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as tf:
        for t, data in entries:
            tf.addfile(t, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue() + tail

"""#

/// Python 3 `tarfile` helpers for writing exact tar headers. The body calls `add(entry)` with
/// entries made by `f` (file), `d` (directory), `sym`, `hard` and `dev`; it may instead set `raw`
/// (uncompressed bytes), append to `tail` (bytes after the end-of-archive blocks), set `cut`
/// (keep that many bytes of the gzip output) or `compress = False`. `probe` is a directory the
/// test watches: nothing may appear in it.
let craftingPrelude = #"""
import sys, tarfile, io, gzip, os
out, fmt, probe = sys.argv[1], getattr(tarfile, sys.argv[2]), sys.argv[3]
entries, tail, raw, cut, compress = [], b"", None, None, True

OWNER = "root"

"""# + tarEntryHelpers + #"""
def add(entry):
    entries.append(entry)

"""#

let craftingEpilogue = #"""

"""# + tarBuildRaw + #"""
payload = gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw
if cut is not None:
    payload = payload[:cut]
with open(out, "wb") as handle:
    handle.write(payload)
"""#

/// Writes the archive the Python `body` describes to `<temp>/in/<name>.tgz` and returns its path.
@discardableResult
func craft(_ temp: TemporaryDirectory, _ body: String, format: String = "USTAR_FORMAT", name: String = "archive",
           probe: String? = nil) throws -> String {
    let directory = temp.file("in")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let out = directory + "/" + name + ".tgz"
    let script = craftingPrelude + body + "\n" + craftingEpilogue
    try runCommand(["python3", "-c", script, out, format, probe ?? temp.file("probe")])
    return out
}
