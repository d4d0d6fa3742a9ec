import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// Python 3 `tarfile` helpers for crafting hostile bundles. The body calls `add(...)` with entries
/// made by `f` (file), `d` (directory), `sym`, `hard` and `dev`; `good()` adds a MANIFEST and the
/// file `payload/a` holding `x`. It may instead set `raw` (the uncompressed stream), append to
/// `tail` (bytes after the end-of-archive blocks) or set `cut` (keep that many compressed bytes).
/// `probe` is a directory the test watches: nothing may appear in it.
let bundleCraftingPrelude = #"""
import sys, tarfile, io, gzip, os, subprocess
out, comp, fmt, probe = sys.argv[1], sys.argv[2], getattr(tarfile, sys.argv[3]), sys.argv[4]
entries, tail, raw, cut = [], b"", None, None

OWNER = ""

"""# + tarEntryHelpers + #"""
def add(*items):
    entries.extend(items)

def manifest():
    return f("MANIFEST", b"{}")

def good():
    add(manifest(), f("payload/a"))

"""#

let bundleCraftingEpilogue = #"""

"""# + tarBuildRaw + #"""
if comp == "zstd":
    data = subprocess.run(["zstd", "-q", "-c", "-"], input=raw, stdout=subprocess.PIPE, check=True).stdout
elif comp == "gzip":
    data = gzip.compress(raw, compresslevel=6, mtime=0)
else:
    data = raw
if cut is not None:
    data = data[:cut]
with open(out, "wb") as handle:
    handle.write(data)
"""#

/// Writes the bundle the Python `body` describes to `<temp>/in/bundle` and returns its path.
func craftBundle(_ temp: TemporaryDirectory, _ body: String, compression: String, format: String) throws -> String {
    let directory = temp.file("in")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let out = directory + "/bundle"
    let script = bundleCraftingPrelude + body + "\n" + bundleCraftingEpilogue
    try runCommand(["python3", "-c", script, out, compression, format, temp.file("probe")])
    return out
}

/// One hostile bundle: how to craft it, what the reader expects, and the refusal expected.
struct HostileBundle: Sendable, CustomTestStringConvertible {
    let name: String
    let body: String
    var compression = "zstd"
    var format = "PAX_FORMAT"
    /// The payload files the reader is told to expect: path, content, executable.
    var expected: [(String, String, Bool)] = [("a", "x", false)]
    var limits = BundleLimits()
    /// The ArchiveError case expected (see BundleErrorParts).
    let kind: String
    /// The entry the error must name (nil: the error names none).
    let entry: String?
    /// Text the message must contain.
    var reason: String?

    var testDescription: String { name }
}

let hostileBundles: [HostileBundle] = [
    // The manifest entries.
    HostileBundle(name: "first entry is not MANIFEST", body: #"add(f("payload/a"), manifest())"#,
                  kind: "noManifest", entry: "payload/a", reason: #"not a bundle: the first entry is "payload/a", not "MANIFEST""#),
    HostileBundle(name: "no entries at all", body: #"raw = b"\0" * 1024"#,
                  kind: "noManifest", entry: nil, reason: "the archive is empty"),
    HostileBundle(name: "MANIFEST in a directory", body: #"add(f("x/MANIFEST"), f("payload/a"))"#,
                  kind: "noManifest", entry: "x/MANIFEST"),
    HostileBundle(name: "./MANIFEST", body: #"add(f("./MANIFEST"), f("payload/a"))"#,
                  kind: "noManifest", entry: "./MANIFEST"),
    HostileBundle(name: "MANIFEST is a directory", body: #"add(d("MANIFEST"), f("payload/a"))"#,
                  kind: "noManifest", entry: "MANIFEST/"),
    HostileBundle(name: "MANIFEST larger than the limit", body: #"add(f("MANIFEST", b"{" * 101), f("payload/a"))"#,
                  limits: BundleLimits(maxManifestBytes: 100), kind: "entryTooLarge", entry: "MANIFEST", reason: "is larger than 100 bytes"),
    HostileBundle(name: "MANIFEST.sig larger than the limit", body: #"add(manifest(), f("MANIFEST.sig", b"s" * 101), f("payload/a"))"#,
                  limits: BundleLimits(maxManifestBytes: 100), kind: "entryTooLarge", entry: "MANIFEST.sig"),
    HostileBundle(name: "MANIFEST is a symlink", body: #"add(sym("MANIFEST", "/etc/passwd"), f("payload/a"))"#,
                  kind: "unsafeEntry", entry: "MANIFEST", reason: #"is a symbolic link to "/etc/passwd""#),
    HostileBundle(name: "MANIFEST is a hard link", body: #"add(hard("MANIFEST", "/etc/passwd"), f("payload/a"))"#,
                  kind: "unsafeEntry", entry: "MANIFEST", reason: #"is a hard link to "/etc/passwd""#),
    HostileBundle(name: "MANIFEST with mode 0755", body: #"add(f("MANIFEST", b"{}", mode=0o755), f("payload/a"))"#,
                  kind: "unsafeEntry", entry: "MANIFEST", reason: "has mode 755, not 644"),
    HostileBundle(name: "MANIFEST.sig is a symlink", body: #"add(manifest(), sym("MANIFEST.sig", probe), f("payload/a"))"#,
                  kind: "unsafeEntry", entry: "MANIFEST.sig", reason: "is a symbolic link to"),

    // Names.
    HostileBundle(name: "absolute path", body: #"good(); add(f("/payload/b"))"#,
                  kind: "unsafeEntry", entry: "/payload/b", reason: "is an absolute path"),
    HostileBundle(name: "absolute path into the probe", body: #"good(); add(f(probe + "/evil"))"#,
                  kind: "unsafeEntry", entry: nil, reason: "is an absolute path"),
    HostileBundle(name: "leading ../", body: #"good(); add(f("../evil"))"#,
                  kind: "unsafeEntry", entry: "../evil", reason: "contains a '..' component"),
    HostileBundle(name: "payload/../evil", body: #"good(); add(f("payload/../evil"))"#,
                  kind: "unsafeEntry", entry: "payload/../evil", reason: "contains a '..' component"),
    HostileBundle(name: "deep ../ out of payload", body: #"good(); add(f("payload/a2/../../../probe/evil"))"#,
                  kind: "unsafeEntry", entry: "payload/a2/../../../probe/evil", reason: "contains a '..' component"),
    HostileBundle(name: "dot component", body: #"good(); add(f("payload/./b"))"#,
                  kind: "unsafeEntry", entry: "payload/./b", reason: "contains a '.' component"),
    HostileBundle(name: "leading ./", body: #"add(manifest(), f("./payload/a"))"#,
                  kind: "unsafeEntry", entry: "./payload/a", reason: #"is outside "payload/""#),
    HostileBundle(name: "empty component", body: #"good(); add(f("payload//b"))"#,
                  kind: "unsafeEntry", entry: "payload//b", reason: "contains an empty component"),
    HostileBundle(name: "drive letter inside payload", body: #"good(); add(f("payload/C:/evil"))"#,
                  kind: "unsafeEntry", entry: "payload/C:/evil", reason: #"has a component that looks like a drive letter ("C:")"#),
    HostileBundle(name: "drive letter at the top", body: #"good(); add(f("C:/evil"))"#,
                  kind: "unsafeEntry", entry: "C:/evil", reason: "looks like a drive letter"),
    HostileBundle(name: "drive-relative name", body: #"good(); add(f("payload/d:evil"))"#,
                  kind: "unsafeEntry", entry: "payload/d:evil", reason: "looks like a drive letter"),
    HostileBundle(name: "UNC path", body: #"good(); add(f("\\\\host\\share\\evil"))"#,
                  kind: "unsafeEntry", entry: #"\\host\share\evil"#, reason: "contains a backslash"),
    HostileBundle(name: "backslash traversal", body: #"good(); add(f("payload\\..\\..\\evil"))"#,
                  kind: "unsafeEntry", entry: #"payload\..\..\evil"#, reason: "contains a backslash"),
    HostileBundle(name: "newline in name", body: #"good(); add(f("payload/a\nb"))"#,
                  kind: "unsafeEntry", entry: "payload/a\nb", reason: "contains a control character"),
    HostileBundle(name: "escape sequence in a PAX path", body: #"good(); add(f("payload/b", pax={"path": "payload/\x1b[2Jevil"}))"#,
                  kind: "unsafeEntry", entry: "payload/\u{1b}[2Jevil", reason: "contains a control character"),
    HostileBundle(name: "DEL in name", body: #"good(); add(f("payload/\x7f"))"#,
                  kind: "unsafeEntry", entry: "payload/\u{7f}", reason: "contains a control character"),
    HostileBundle(name: "name that is not UTF-8", body: #"good(); add(f("payload/\udcff"))"#, format: "USTAR_FORMAT",
                  kind: "unsafeEntry", entry: "payload/\u{FFFD}", reason: "has a name that is not valid UTF-8"),
    HostileBundle(name: "malformed PAX record (libarchive warns)",
                  body: #"""
                      x = tarfile.TarInfo("payload/PaxHeader"); x.type = tarfile.XHDTYPE; x.size = 8; x.mtime = 0
                      m = manifest()
                      raw = header(m[0]) + padded(m[1]) + header(x) + padded(b"garbage\n") + header(f("payload/a")[0]) + padded(b"x") + b"\0" * 1024
                      """#,
                  kind: "unsafeEntry", entry: "payload/a", reason: "libarchive warned: "),

    // Where entries are.
    HostileBundle(name: "outside payload/", body: #"good(); add(f("other/x"))"#,
                  kind: "unsafeEntry", entry: "other/x", reason: #"is outside "payload/""#),
    HostileBundle(name: "prefix trick payload-evil/", body: #"good(); add(f("payload-evil/x"))"#,
                  kind: "unsafeEntry", entry: "payload-evil/x", reason: #"is outside "payload/""#),
    HostileBundle(name: "payload as a file", body: #"add(manifest(), f("payload"))"#,
                  kind: "unsafeEntry", entry: "payload", reason: #"is outside "payload/""#),
    HostileBundle(name: "second MANIFEST after the payload", body: #"good(); add(f("MANIFEST", b"{evil}"))"#,
                  kind: "unsafeEntry", entry: "MANIFEST", reason: #"is outside "payload/""#),
    HostileBundle(name: "MANIFEST.sig after the payload", body: #"good(); add(f("MANIFEST.sig"))"#,
                  kind: "unsafeEntry", entry: "MANIFEST.sig", reason: #"is outside "payload/""#),

    // Types and modes.
    HostileBundle(name: "symlink then a file through it",
                  body: #"add(manifest(), sym("payload/x", probe), f("payload/x/evil"))"#,
                  expected: [("x/evil", "x", false)],
                  kind: "unsafeEntry", entry: "payload/x", reason: "is a symbolic link to"),
    HostileBundle(name: "relative symlink upwards then a file through it",
                  body: #"add(manifest(), sym("payload/up", "../../probe"), f("payload/up/evil"))"#,
                  expected: [("up/evil", "x", false)],
                  kind: "unsafeEntry", entry: "payload/up", reason: #"is a symbolic link to "../../probe""#),
    HostileBundle(name: "hard link", body: #"good(); add(hard("payload/b", "payload/a"))"#,
                  kind: "unsafeEntry", entry: "payload/b", reason: #"is a hard link to "payload/a""#),
    HostileBundle(name: "hard link outside", body: #"add(manifest(), hard("payload/a", "/etc/passwd"))"#,
                  kind: "unsafeEntry", entry: "payload/a", reason: #"is a hard link to "/etc/passwd""#),
    HostileBundle(name: "character device", body: #"good(); add(dev("payload/null", tarfile.CHRTYPE))"#,
                  kind: "unsafeEntry", entry: "payload/null", reason: "is a character device"),
    HostileBundle(name: "block device", body: #"good(); add(dev("payload/disk", tarfile.BLKTYPE))"#,
                  kind: "unsafeEntry", entry: "payload/disk", reason: "is a block device"),
    HostileBundle(name: "FIFO", body: #"good(); add(dev("payload/fifo", tarfile.FIFOTYPE))"#,
                  kind: "unsafeEntry", entry: "payload/fifo", reason: "is a FIFO"),
    HostileBundle(name: "directory entry", body: #"add(manifest(), d("payload/charts"), f("payload/a"))"#,
                  kind: "unsafeEntry", entry: "payload/charts/", reason: "is a directory (a bundle holds files only)"),
    HostileBundle(name: "setuid file", body: #"add(manifest(), f("payload/a", mode=0o4755))"#, expected: [("a", "x", true)],
                  kind: "unsafeEntry", entry: "payload/a", reason: "has the setuid, setgid or sticky bit (mode 4755)"),
    HostileBundle(name: "setgid file", body: #"add(manifest(), f("payload/a", mode=0o2644))"#,
                  kind: "unsafeEntry", entry: "payload/a", reason: "(mode 2644)"),
    HostileBundle(name: "sticky file", body: #"add(manifest(), f("payload/a", mode=0o1644))"#,
                  kind: "unsafeEntry", entry: "payload/a", reason: "(mode 1644)"),
    HostileBundle(name: "mode 0600", body: #"add(manifest(), f("payload/a", mode=0o600))"#,
                  kind: "unsafeEntry", entry: "payload/a", reason: "has mode 600, the manifest says 644"),
    HostileBundle(name: "executable that the manifest says is not", body: #"add(manifest(), f("payload/a", mode=0o755))"#,
                  kind: "unsafeEntry", entry: "payload/a", reason: "has mode 755, the manifest says 644"),
    HostileBundle(name: "not executable though the manifest says so", body: #"add(manifest(), f("payload/a"))"#,
                  expected: [("a", "x", true)],
                  kind: "unsafeEntry", entry: "payload/a", reason: "has mode 644, the manifest says 755"),
    HostileBundle(name: "group-writable executable", body: #"add(manifest(), f("payload/a", mode=0o775))"#,
                  expected: [("a", "x", true)],
                  kind: "unsafeEntry", entry: "payload/a", reason: "has mode 775, the manifest says 755"),

    // The set of entries.
    HostileBundle(name: "duplicate entry", body: #"good(); add(f("payload/a"))"#,
                  kind: "unsafeEntry", entry: "payload/a", reason: "duplicates an earlier entry"),
    HostileBundle(name: "entry not in the manifest", body: #"good(); add(f("payload/extra"))"#,
                  kind: "unsafeEntry", entry: "payload/extra", reason: "is not in the manifest"),
    HostileBundle(name: "file under an expected file", body: #"good(); add(f("payload/a/b"))"#,
                  kind: "unsafeEntry", entry: "payload/a/b", reason: "is not in the manifest"),
    HostileBundle(name: "expected file missing", body: #"good()"#, expected: [("a", "x", false), ("b/c", "y", false)],
                  kind: "missingEntries", entry: "payload/b/c",
                  reason: #"1 file of the manifest is missing from the bundle: "payload/b/c""#),
    HostileBundle(name: "payload missing entirely", body: #"add(manifest())"#, expected: [("a", "x", false), ("b", "y", false)],
                  kind: "missingEntries", entry: "payload/a",
                  reason: #"2 files of the manifest are missing from the bundle: "payload/a", "payload/b""#),

    // Contents.
    HostileBundle(name: "size differs from the manifest", body: #"add(manifest(), f("payload/a", b"xy"))"#,
                  kind: "entrySizeMismatch", entry: "payload/a", reason: "holds 2 bytes, the manifest says 1"),
    HostileBundle(name: "sha256 differs from the manifest", body: #"add(manifest(), f("payload/a", b"y"))"#,
                  kind: "entryDigestMismatch", entry: "payload/a",
                  reason: "is corrupt: expected sha256 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881, "
                      + "got a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"),

    // Sizes and counts.
    HostileBundle(name: "file over maxFileBytes", body: #"add(manifest(), f("payload/a", b"x" * 1001))"#,
                  expected: [("a", String(repeating: "x", count: 1001), false)],
                  limits: BundleLimits(maxFileBytes: 1000), kind: "fileTooLarge", entry: "payload/a"),
    HostileBundle(name: "total over maxTotalBytes", body: #"add(manifest(), f("payload/a", b"a" * 1000), f("payload/b", b"b" * 1000))"#,
                  expected: [("a", String(repeating: "a", count: 1000), false), ("b", String(repeating: "b", count: 1000), false)],
                  limits: BundleLimits(maxTotalBytes: 1500), kind: "archiveTooLarge", entry: "payload/b"),
    HostileBundle(name: "too many entries", body: #"good(); add(f("payload/b"), f("payload/c"))"#,
                  expected: [("a", "x", false), ("b", "x", false), ("c", "x", false)],
                  limits: BundleLimits(maxEntries: 3), kind: "tooManyEntries", entry: "payload/c"),
    HostileBundle(name: "zstd bomb: 64 MiB of zeros", body: #"add(manifest(), f("payload/a", bytes(64 << 20)))"#,
                  limits: BundleLimits(maxFileBytes: 1 << 20), kind: "fileTooLarge", entry: "payload/a"),
    HostileBundle(name: "PAX size claims 6 GB", body: #"add(manifest(), f("payload/a", b"x", pax={"size": "6000000000"}))"#,
                  kind: "entrySizeMismatch", entry: "payload/a", reason: "holds 6000000000 bytes, the manifest says 1"),

    // Broken streams.
    HostileBundle(name: "zstd stream cut inside a file",
                  body: #"good(); add(f("payload/big", os.urandom(3000000))); cut = 2000000"#,
                  expected: [("a", "x", false), ("big", String(repeating: "-", count: 3_000_000), false)],
                  kind: "truncatedBundle", entry: "payload/big", reason: #"the bundle ends inside entry "payload/big""#),
    HostileBundle(name: "gzip stream cut inside a file",
                  body: #"good(); add(f("payload/big", os.urandom(200000))); cut = 100000"#, compression: "gzip",
                  expected: [("a", "x", false), ("big", String(repeating: "-", count: 200_000), false)],
                  kind: "truncatedBundle", entry: "payload/big"),
    HostileBundle(name: "plain tar cut inside a header",
                  body: #"good(); add(f("payload/b")); cut = 512 * 4 + 100"#, compression: "none",
                  expected: [("a", "x", false), ("b", "x", false)],
                  kind: "truncatedBundle", entry: nil, reason: "the bundle ends before the end of the archive"),
    HostileBundle(name: "zstd stream cut in its first block", body: #"good(); cut = 20"#,
                  kind: "unreadable", entry: nil, reason: "Truncated zstd input"),
    HostileBundle(name: "zstd stream cut before the archive is recognised",
                  body: #"good(); add(f("payload/big", os.urandom(200000))); cut = 100000"#,
                  expected: [("a", "x", false), ("big", String(repeating: "-", count: 200_000), false)],
                  kind: "unreadable", entry: nil, reason: "Truncated zstd input"),
    HostileBundle(name: "random bytes", body: #"raw = os.urandom(4096)"#, compression: "none",
                  kind: "unreadable", entry: nil),
    HostileBundle(name: "gzip of random bytes", body: #"raw = os.urandom(4096)"#, compression: "gzip",
                  kind: "unreadable", entry: nil),
    HostileBundle(name: "empty file", body: #"raw = b"""#, compression: "none",
                  kind: "unreadable", entry: nil),
]

@Suite struct BundleHostileTests {
    init() { _ = utf8Locale }

    @Test(arguments: hostileBundles)
    func hostileBundleIsRefusedAndLeavesNothing(_ hostile: HostileBundle) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile-bundle")
        let probe = temp.file("probe")
        let out = temp.file("out")
        for directory in [probe, out] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let bundle = try craftBundle(temp, hostile.body, compression: hostile.compression, format: hostile.format)
        var expected: [BundleExpectedFile] = []
        for (path, content, executable) in hostile.expected {
            let bytes = Array(content.utf8)
            expected.append(BundleExpectedFile(path: path, size: Int64(bytes.count), sha256: try sha256(bytes), executable: executable))
        }
        let staging = out + "/staging"

        let caught = expectArchiveError {
            let reader = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: hostile.limits)
            _ = try reader.readManifest()
            _ = try reader.extract(into: staging, expected: expected)
        }
        guard let caught else { return }
        let parts = BundleErrorParts(caught)
        let message = "\(caught)"
        #expect(parts.kind == hostile.kind, "\(message)")
        if let entry = hostile.entry {
            #expect(parts.entry == entry, "\(message)")
        }
        if let entry = parts.entry {
            #expect(message.contains(quoted(entry)), "\(message)")
        }
        if let reason = hostile.reason {
            #expect(message.contains(reason), "\(message)")
        }
        #expect(message.hasPrefix(bundle + ": "), "\(message)")

        // Nothing left: no staging directory, nothing through a link, nothing beside.
        #expect(!exists(staging))
        #expect(listing(out) == [])
        #expect(listing(probe) == [])
        #expect(listing(temp.path) == ["in", "out", "probe"])
    }

    @Test func stagingThatExistsIsNotTouched() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile-bundle")
        let bundle = try craftBundle(temp, #"good()"#, compression: "zstd", format: "PAX_FORMAT")
        try temp.write("staging/keep", Array("keep".utf8))
        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: BundleLimits())
        let error = expectArchiveError {
            _ = try reader.extract(into: temp.file("staging"), expected: [
                BundleExpectedFile(path: "a", size: 1, sha256: try sha256ForTest("x"))
            ])
        }
        #expect(error.map(BundleErrorParts.init)?.kind == "destinationExists")
        #expect(tree(temp.file("staging")) == ["keep"])
    }

    @Test func staleStagingSymlinkIsNotFollowed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile-bundle")
        let bundle = try craftBundle(temp, #"good()"#, compression: "zstd", format: "PAX_FORMAT")
        try FileManager.default.createDirectory(atPath: temp.file("probe"), withIntermediateDirectories: true)
        try runCommand(["ln", "-s", temp.file("probe"), temp.file("staging")])
        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: BundleLimits())
        let error = expectArchiveError {
            _ = try reader.extract(into: temp.file("staging"), expected: [
                BundleExpectedFile(path: "a", size: 1, sha256: try sha256ForTest("x"))
            ])
        }
        #expect(error.map(BundleErrorParts.init)?.kind == "destinationExists")
        #expect(listing(temp.file("probe")) == [])
    }

    @Test func badExpectationsAreRefusedBeforeStagingIsCreated() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile-bundle")
        let bundle = try craftBundle(temp, #"good()"#, compression: "zstd", format: "PAX_FORMAT")
        let digest = try sha256ForTest("x")
        let cases: [([BundleExpectedFile], String)] = [
            ([BundleExpectedFile(path: "../a", size: 1, sha256: digest)], #"expected file "../a" contains a '..' component"#),
            ([BundleExpectedFile(path: "a", size: 1, sha256: digest), BundleExpectedFile(path: "a", size: 1, sha256: digest)],
             #"expected file "a" is given twice"#),
            ([BundleExpectedFile(path: "a", size: 1, sha256: digest), BundleExpectedFile(path: "a/b", size: 1, sha256: digest)],
             #"expected file "a/b" lies under the file "a""#),
        ]
        for (expected, message) in cases {
            let reader = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: BundleLimits())
            let error = expectArchiveError { _ = try reader.extract(into: temp.file("staging"), expected: expected) }
            #expect(error.map { "\($0)" } == "invalid bundle request: " + message)
            #expect(!exists(temp.file("staging")))
        }
    }

    @Test func bytesAfterTheEndOfTheArchiveAreNotExtracted() throws {
        // Tar record padding (and anything else after the end-of-archive blocks) is not an entry;
        // the stream's SHA-256, which extract returns, is what covers those bytes.
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile-bundle")
        let bundle = try craftBundle(temp, #"good(); tail = b"\0" * 1024 + b"trailing garbage" * 100"#, compression: "zstd", format: "PAX_FORMAT")
        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: BundleLimits())
        let digest = try reader.extract(into: temp.file("staging"), expected: [
            BundleExpectedFile(path: "a", size: 1, sha256: try sha256ForTest("x"))
        ])
        #expect(digest == (try sha256(file: bundle)))
        #expect(tree(temp.file("staging")) == ["a"])
    }
}

/// The SHA-256 of `text`'s UTF-8 bytes.
func sha256ForTest(_ text: String) throws -> ChartSyncCore.Digest { try sha256(Array(text.utf8)) }
