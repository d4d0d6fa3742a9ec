import ChartSyncArchive
import ChartSyncTestSupport
import Foundation
import Testing

/// One hostile archive: how to craft it, the limits to extract it with, and the refusal expected.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    let body: String
    var format = "USTAR_FORMAT"
    var limits = ExtractionLimits()
    /// The ArchiveError case expected.
    let kind: String
    /// The entry the error must name (nil for errors without an entry).
    let entry: String?
    /// Text the reason or libarchive message must contain.
    var reason: String?

    var testDescription: String { name }
}

/// The hostile archives. `probe` (a Python variable) is a directory the test watches.
let hostileCases: [HostileCase] = [
    // Names.
    HostileCase(name: "absolute path", body: #"add(f("top/ok")); add(f("/abs/evil"))"#,
                kind: "unsafeEntry", entry: "/abs/evil", reason: "is an absolute path"),
    HostileCase(name: "absolute path into the probe", body: #"add(f(probe + "/evil"))"#,
                kind: "unsafeEntry", entry: nil, reason: "is an absolute path"),
    HostileCase(name: "leading ../", body: #"add(f("../evil"))"#,
                kind: "unsafeEntry", entry: "../evil", reason: "contains a '..' component"),
    HostileCase(name: "a/../../x", body: #"add(f("top/a/../../x"))"#,
                kind: "unsafeEntry", entry: "top/a/../../x", reason: "contains a '..' component"),
    HostileCase(name: "./../x", body: #"add(d("./")); add(f("./../x"))"#,
                kind: "unsafeEntry", entry: "./../x", reason: "contains a '..' component"),
    HostileCase(name: ".. as a directory", body: #"add(d("top/.."))"#,
                kind: "unsafeEntry", entry: "top/../", reason: "contains a '..' component"),
    HostileCase(name: "dot component", body: #"add(f("top/./a"))"#,
                kind: "unsafeEntry", entry: "top/./a", reason: "contains a '.' component"),
    HostileCase(name: "empty component", body: #"add(f("top//a"))"#,
                kind: "unsafeEntry", entry: "top//a", reason: "contains an empty component"),
    HostileCase(name: "backslash", body: #"add(f("top\\..\\..\\evil"))"#,
                kind: "unsafeEntry", entry: #"top\..\..\evil"#, reason: "contains a backslash"),
    HostileCase(name: "newline in name", body: #"add(f("top/a\nb"))"#,
                kind: "unsafeEntry", entry: "top/a\nb", reason: "contains a control character"),
    HostileCase(name: "control character in name", body: #"add(f("top/a\x01b"))"#,
                kind: "unsafeEntry", entry: "top/a\u{1}b", reason: "contains a control character"),
    HostileCase(name: "DEL in name", body: #"add(f("top/a\x7f"))"#,
                kind: "unsafeEntry", entry: "top/a\u{7f}", reason: "contains a control character"),
    HostileCase(name: "control character in a PAX path", body: #"add(f("top/a", pax={"path": "top/\x1b[2Jevil"}))"#,
                format: "PAX_FORMAT", kind: "unsafeEntry", entry: "top/\u{1b}[2Jevil", reason: "contains a control character"),
    HostileCase(name: "name that is not UTF-8", body: #"add(f("top/ok")); add(f("top/\udcff\udcfe"))"#,
                kind: "unsafeEntry", entry: "top/\u{FFFD}\u{FFFD}", reason: "has a name that is not valid UTF-8"),
    HostileCase(name: "malformed PAX record (libarchive warns and ignores it)",
                body: #"""
                    x = tarfile.TarInfo("top/PaxHeader"); x.type = tarfile.XHDTYPE; x.size = 8; x.mtime = 0
                    raw = header(x) + padded(b"garbage\n") + header(f("top/a")[0]) + padded(b"x") + b"\0" * 1024
                    """#,
                kind: "unsafeEntry", entry: "top/a", reason: "libarchive warned: "),
    HostileCase(name: "outside the top directory", body: #"add(f("top/ok")); add(f("other/file"))"#,
                kind: "unsafeEntry", entry: "other/file", reason: #"is outside the top directory "top/""#),
    HostileCase(name: "prefix trick top-evil", body: #"add(f("top-evil/file"))"#,
                kind: "unsafeEntry", entry: "top-evil/file", reason: #"is outside the top directory "top/""#),
    HostileCase(name: "no top directory", body: #"add(f("Chart.yaml"))"#,
                kind: "unsafeEntry", entry: "Chart.yaml", reason: #"is outside the top directory "top/""#),
    HostileCase(name: "./ and top/ mixed", body: #"add(f("./a")); add(f("top/b"))"#,
                kind: "unsafeEntry", entry: "top/b", reason: #"is outside the top directory "./""#),
    HostileCase(name: "file in place of the top directory", body: #"add(f("top"))"#,
                kind: "unsafeEntry", entry: "top", reason: "is a file in place of the top directory"),

    // Types.
    HostileCase(name: "symlink", body: #"add(f("top/ok")); add(sym("top/link", probe))"#,
                kind: "unsafeEntry", entry: "top/link", reason: "is a symbolic link to"),
    HostileCase(name: "symlink then a file through it",
                body: #"add(sym("top/link", probe)); add(f("top/link/evil"))"#,
                kind: "unsafeEntry", entry: "top/link", reason: "is a symbolic link to"),
    HostileCase(name: "relative symlink upwards then a file through it",
                body: #"add(sym("top/up", "../../probe")); add(f("top/up/evil"))"#,
                kind: "unsafeEntry", entry: "top/up", reason: #"is a symbolic link to "../../probe""#),
    HostileCase(name: "hard link", body: #"add(f("top/a")); add(hard("top/b", "top/a"))"#,
                kind: "unsafeEntry", entry: "top/b", reason: #"is a hard link to "top/a""#),
    HostileCase(name: "hard link outside", body: #"add(hard("top/passwd", "/etc/passwd"))"#,
                kind: "unsafeEntry", entry: "top/passwd", reason: #"is a hard link to "/etc/passwd""#),
    HostileCase(name: "character device", body: #"add(dev("top/null", tarfile.CHRTYPE))"#,
                kind: "unsafeEntry", entry: "top/null", reason: "is a character device"),
    HostileCase(name: "block device", body: #"add(dev("top/disk", tarfile.BLKTYPE))"#,
                kind: "unsafeEntry", entry: "top/disk", reason: "is a block device"),
    HostileCase(name: "FIFO", body: #"add(dev("top/fifo", tarfile.FIFOTYPE))"#,
                kind: "unsafeEntry", entry: "top/fifo", reason: "is a FIFO"),
    HostileCase(name: "setuid file", body: #"add(f("top/a", mode=0o4755))"#,
                kind: "unsafeEntry", entry: "top/a", reason: "has the setuid, setgid or sticky bit (mode 4755)"),
    HostileCase(name: "setgid file", body: #"add(f("top/a", mode=0o2644))"#,
                kind: "unsafeEntry", entry: "top/a", reason: "(mode 2644)"),
    HostileCase(name: "sticky directory", body: #"add(d("top/t", mode=0o1777))"#,
                kind: "unsafeEntry", entry: "top/t/", reason: "(mode 1777)"),

    // Duplicates and conflicts.
    HostileCase(name: "duplicate file", body: #"add(f("top/a")); add(f("top/a", b"second"))"#,
                kind: "unsafeEntry", entry: "top/a", reason: "duplicates an earlier entry"),
    HostileCase(name: "duplicate directory", body: #"add(d("top/t")); add(d("top/t"))"#,
                kind: "unsafeEntry", entry: "top/t/", reason: "duplicates an earlier entry"),
    HostileCase(name: "directory over a file", body: #"add(f("top/a")); add(d("top/a"))"#,
                kind: "unsafeEntry", entry: "top/a/", reason: "has the same path as an earlier file"),
    HostileCase(name: "file over a directory", body: #"add(f("top/a/b")); add(f("top/a"))"#,
                kind: "unsafeEntry", entry: "top/a", reason: "has the same path as an earlier directory"),
    HostileCase(name: "file under a file", body: #"add(f("top/a")); add(f("top/a/b"))"#,
                kind: "unsafeEntry", entry: "top/a/b", reason: #"lies under the earlier file "a""#),

    // Sizes and counts.
    HostileCase(name: "file over maxFileBytes", body: #"add(f("top/ok", b"y" * 1000)); add(f("top/big", b"z" * 1001))"#,
                limits: ExtractionLimits(maxTotalBytes: 1 << 20, maxFileBytes: 1000),
                kind: "fileTooLarge", entry: "top/big"),
    HostileCase(name: "total over maxTotalBytes",
                body: #"add(f("top/x/y/a", b"a" * 1500)); add(f("top/z/b", b"b" * 1500)); add(f("top/c", b"c"))"#,
                limits: ExtractionLimits(maxTotalBytes: 3000, maxFileBytes: 2000),
                kind: "archiveTooLarge", entry: "top/c"),
    HostileCase(name: "gzip bomb: 64 MiB of zeros in one file", body: #"add(f("top/zeros", bytes(64 << 20)))"#,
                kind: "fileTooLarge", entry: "top/zeros"),
    HostileCase(name: "PAX size claims 6 GB", body: #"add(f("top/a", b"x", pax={"size": "6000000000"}))"#,
                format: "PAX_FORMAT", kind: "fileTooLarge", entry: "top/a"),
    HostileCase(name: "small header size followed by a large stream",
                body: #"""
                    raw = header(f("top/a", b"0123456789")[0]) + padded(b"0123456789") + b"\x01" * (16 << 20) + b"\0" * 1024
                    """#,
                kind: "unreadable", entry: nil, reason: #"(after entry "top/a")"#),
    HostileCase(name: "too many entries",
                body: #"add(d("top/")); [add(f("top/f%d" % i)) for i in range(5)]"#,
                limits: ExtractionLimits(maxEntries: 5),
                kind: "tooManyEntries", entry: "top/f4"),

    // Broken archives.
    HostileCase(name: "truncated inside a file",
                body: #"add(f("top/a")); add(f("top/big", os.urandom(200000))); cut = 100000"#,
                kind: "unreadableEntry", entry: "top/big"),
    HostileCase(name: "truncated tar inside a header",
                body: #"""
                    add(f("top/a")); add(f("top/b"))
                    buf = io.BytesIO()
                    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
                        for t, data in entries: tf.addfile(t, io.BytesIO(data))
                    raw = buf.getvalue()[:512 * 2 + 100]
                    """#,
                kind: "unreadable", entry: nil, reason: #"after entry "top/a""#),
    HostileCase(name: "not gzip", body: #"raw = os.urandom(4096); compress = False"#,
                kind: "unreadable", entry: nil),
    HostileCase(name: "gzip of garbage", body: #"raw = os.urandom(4096)"#,
                kind: "unreadable", entry: nil),
    HostileCase(name: "empty file", body: #"raw = b""; compress = False"#,
                kind: "unreadable", entry: nil),
    HostileCase(name: "no files, only the top directory", body: #"add(d("top/"))"#,
                kind: "noFiles", entry: nil),
    HostileCase(name: "only end-of-archive blocks", body: #"raw = b"\0" * 10240"#,
                kind: "noFiles", entry: nil),
]

@Suite struct HostileArchiveTests {
    init() { _ = utf8Locale }

    @Test(arguments: hostileCases)
    func hostileArchiveIsRefusedAndLeavesNothing(_ hostile: HostileCase) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile")
        let probe = temp.file("probe")
        let out = temp.file("out")
        for directory in [probe, out] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let archive = try craft(temp, hostile.body, format: hostile.format)
        let destination = out + "/chart"

        var caught: ArchiveError?
        do {
            let result = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "top", limits: hostile.limits)
            Issue.record("extracted \(result.files)")
        } catch {
            caught = error
        }
        guard let caught else { return }
        let parts = ErrorParts(caught)
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
        #expect(message.hasPrefix(archive + ": "), "\(message)")

        // Nothing left: no destination, no staging directory, nothing through a link.
        #expect(!exists(destination))
        #expect(listing(out) == [])
        #expect(listing(probe) == [])
        #expect(listing(temp.path) == ["in", "out", "probe"])
    }

    @Test(arguments: [("gnu", "--format=gnu"), ("pax", "--format=pax")])
    func sparseFileIsRefused(_ format: (String, String)) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile")
        try FileManager.default.createDirectory(atPath: temp.file("src/top"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temp.file("out"), withIntermediateDirectories: true)
        try runCommand(["sh", "-c", "printf x > \"$1/src/top/a\" && truncate -s 1G \"$1/src/top/hole\" && printf y >> \"$1/src/top/hole\"",
                        "sh", temp.path])
        let archive = temp.file("sparse.tgz")
        try runCommand(["tar", "--sparse", format.1, "-czf", archive, "-C", temp.file("src"), "top"])
        let size = try FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int ?? 0
        #expect(size < 100_000)
        let destination = temp.file("out/chart")
        #expect {
            _ = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "top")
        } throws: { error in
            guard let error = error as? ArchiveError else { return false }
            let parts = ErrorParts(error)
            return parts == ErrorParts(kind: "unsafeEntry", entry: "top/hole", reason: "is a sparse file")
        }
        #expect(listing(temp.file("out")) == [])
    }

    @Test func nulInPaxPathIsReadUpToTheNul() throws {
        // libarchive 3.6 ends a PAX value at an embedded NUL, so this entry reads as "top/a" and lands
        // inside the destination. (Go's archive/tar, hence Helm, rejects such a header.)
        let temp = try TemporaryDirectory(prefix: "chartsync-hostile")
        try FileManager.default.createDirectory(atPath: temp.file("out"), withIntermediateDirectories: true)
        let archive = try craft(temp, #"add(f("top/b", b"b", pax={"path": "top/a\x00/../../evil"}))"#, format: "PAX_FORMAT")
        let destination = temp.file("out/chart")
        let result = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "top")
        #expect(result.files == ["a"])
        #expect(tree(destination) == ["a"])
        #expect(listing(temp.file("out")) == ["chart"])
        #expect(listing(temp.path) == ["in", "out"])
        #expect(!exists(temp.path + "/../evil"))
    }
}
