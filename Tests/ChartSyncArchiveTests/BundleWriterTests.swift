import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// A bad request to the writer: how to change a good payload, and text the message must contain.
struct BadWriteRequest: Sendable, CustomTestStringConvertible {
    let name: String
    /// Replaces payload paths (by index), adds files or expectations.
    let paths: [String]
    var dropExpectation = false
    var extraExpectation = false
    var splitSize: Int64?
    var mtime: Int64 = 0
    let message: String

    var testDescription: String { name }
}

let badWriteRequests: [BadWriteRequest] = [
    BadWriteRequest(name: "absolute path", paths: ["/etc/passwd"], message: #"payload path "/etc/passwd" is an absolute path"#),
    BadWriteRequest(name: "dot-dot", paths: ["a/../../x"], message: #"payload path "a/../../x" contains a '..' component"#),
    BadWriteRequest(name: "dot", paths: ["./a"], message: #"payload path "./a" contains a '.' component"#),
    BadWriteRequest(name: "empty component", paths: ["a//b"], message: #"payload path "a//b" contains an empty component"#),
    BadWriteRequest(name: "trailing slash", paths: ["a/"], message: #"payload path "a/" contains an empty component"#),
    BadWriteRequest(name: "empty", paths: [""], message: #"payload path "" is empty"#),
    BadWriteRequest(name: "drive letter", paths: ["C:/x"], message: #"payload path "C:/x" has a component that looks like a drive letter ("C:")"#),
    BadWriteRequest(name: "backslash", paths: [#"a\b"#], message: #"payload path "a\\b" contains a backslash"#),
    BadWriteRequest(name: "control character", paths: ["a\u{1}b"], message: #"payload path "a\x01b" contains a control character"#),
    BadWriteRequest(name: "NUL", paths: ["a\u{0}b"], message: #"payload path "a\x00b" contains a control character"#),
    BadWriteRequest(name: "duplicate", paths: ["a", "a"], message: #"payload path "a" is given twice"#),
    BadWriteRequest(name: "file under a file", paths: ["a", "a/b"], message: #"payload path "a/b" lies under the file "a""#),
    BadWriteRequest(name: "no expectation", paths: ["a"], dropExpectation: true, message: #"payload path "a" has no expected size and sha256"#),
    BadWriteRequest(name: "expectation without file", paths: ["a"], extraExpectation: true,
                    message: #"expected file "zz-extra" is not in the payload"#),
    BadWriteRequest(name: "zero split size", paths: ["a"], splitSize: 0, message: "the split size must be a positive number of bytes, not 0"),
    BadWriteRequest(name: "negative mtime", paths: ["a"], mtime: -1, message: "the modification time must not be negative (-1)"),
]

@Suite struct BundleWriterTests {
    init() { _ = utf8Locale }

    @Test(arguments: badWriteRequests)
    func badRequestIsRefusedBeforeAnythingIsWritten(_ request: BadWriteRequest) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let source = try temp.write("src/file", Array("x".utf8))
        let digest = try sha256(file: source)
        let files = request.paths.map { BundlePayloadFile(path: $0, source: source) }
        var expected: [String: (size: Int64, sha256: ChartSyncCore.Digest)] = [:]
        for path in request.paths where !request.dropExpectation { expected[path] = (1, digest) }
        if request.extraExpectation { expected["zz-extra"] = (1, digest) }
        let error = expectArchiveError {
            _ = try BundleArchiveWriter.write(
                to: temp.file("bundle.tar.zst"), manifest: testManifest, signature: nil, payload: files, expected: expected,
                compression: .zstd, mtime: request.mtime, splitSize: request.splitSize)
        }
        #expect(error.map(BundleErrorParts.init)?.kind == "invalidBundleRequest")
        #expect(error.map { "\($0)" } == "invalid bundle request: " + request.message)
        #expect(listing(temp.path) == ["src"])
    }

    @Test(arguments: [false, true])
    func payloadFileGrownSinceTheManifestAbortsTheWrite(_ split: Bool) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 400_000)
        let changed = payload.files.first { $0.path == "versions.lock" }!
        try runCommand(["sh", "-c", "printf 'more\\n' >> \"$0\"", changed.source])
        try FileManager.default.createDirectory(atPath: temp.file("out"), withIntermediateDirectories: false)
        let error = expectArchiveError {
            try writeBundle(temp, payload, compression: .zstd, splitSize: split ? 4096 : nil)
        }
        let expectedSize = payload.expected["versions.lock"]!.size
        #expect(error.map { "\($0)" } == "\(changed.source): changed since the manifest was made (bundle entry \"payload/versions.lock\"): "
                + "its size is \(expectedSize + 5) bytes, the manifest says \(expectedSize)")
        #expect(listing(temp.file("out")) == [])
    }

    @Test(arguments: [false, true])
    func payloadFileRewrittenWithTheSameSizeAbortsTheWrite(_ split: Bool) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 400_000)
        // The last file in entry order, so that most of the stream (and several parts) were written first.
        let changed = payload.files.first { $0.path == "versions.lock" }!
        let original = payload.contents["versions.lock"]!
        var altered = original
        altered[0] ^= 0x20
        try Data(altered).write(to: URL(fileURLWithPath: changed.source))
        let actual = try sha256(altered)
        try FileManager.default.createDirectory(atPath: temp.file("out"), withIntermediateDirectories: false)
        let error = expectArchiveError {
            try writeBundle(temp, payload, compression: .gzip, splitSize: split ? 4096 : nil)
        }
        #expect(error.map { "\($0)" } == "\(changed.source): changed since the manifest was made (bundle entry \"payload/versions.lock\"): "
                + "its sha256 is \(actual.hex), the manifest says \(payload.expected["versions.lock"]!.sha256.hex)")
        #expect(listing(temp.file("out")) == [])
    }

    /// The files in `sizeOnly` are checked for their size only (the caller proved them); every
    /// other file's bytes are proven while streamed, and a mismatch names the payload path, the
    /// digest expected and the one found.
    @Test func onlyTheFilesNotInSizeOnlyAreHashedWhileStreamed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 400_000)
        let changed = payload.files.first { $0.path == "versions.lock" }!
        var altered = payload.contents["versions.lock"]!
        altered[altered.count - 1] ^= 0x20
        try Data(altered).write(to: URL(fileURLWithPath: changed.source))
        let actual = try sha256(altered)
        let expected = payload.expected["versions.lock"]!.sha256
        for split in [nil, Int64(4096)] {
            let out = temp.file(split == nil ? "whole" : "split")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
            let others = Set(payload.files.map(\.path)).subtracting(["versions.lock"])
            let error = expectArchiveError {
                _ = try BundleArchiveWriter.write(
                    to: out + "/b", manifest: testManifest, signature: nil, payload: payload.files, expected: payload.expected,
                    compression: .zstd, mtime: 0, splitSize: split, sizeOnly: others)
            }
            guard case .payloadMismatch(let source, let path, let wanted, let found)? = error else {
                Issue.record("not a payloadMismatch: \(String(describing: error))")
                continue
            }
            #expect(source == changed.source && path == "versions.lock" && wanted == expected && found == actual)
            #expect(listing(out) == [])
            _ = try BundleArchiveWriter.write(
                to: out + "/b", manifest: testManifest, signature: nil, payload: payload.files, expected: payload.expected,
                compression: .zstd, mtime: 0, splitSize: split, sizeOnly: ["versions.lock"])
            #expect(!listing(out).isEmpty)
        }
    }

    @Test func unreadableSourcesAreNamed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let source = try temp.write("src/file", Array("x".utf8))
        let digest = try sha256(file: source)
        try runCommand(["ln", "-s", source, temp.file("src/link")])
        try runCommand(["mkfifo", temp.file("src/fifo")])
        let cases: [(String, String)] = [
            (temp.file("src/link"), "it is a symbolic link"),
            (temp.file("src/missing"), "No such file or directory"),
            (temp.file("src/fifo"), "it is not a regular file"),
            (temp.file("src"), "it is not a regular file"),
        ]
        for (path, reason) in cases {
            let error = expectArchiveError {
                _ = try BundleArchiveWriter.write(
                    to: temp.file("bundle.tar"), manifest: testManifest, signature: nil,
                    payload: [BundlePayloadFile(path: "f", source: path)], expected: ["f": (1, digest)],
                    compression: .none, mtime: 0, splitSize: nil)
            }
            #expect(error.map { "\($0)" } == "\(path): cannot read (bundle entry \"payload/f\"): \(reason)")
            #expect(!exists(temp.file("bundle.tar")))
        }
        #expect(listing(temp.path) == ["src"])
    }

    @Test func existingBundleOrPartIsNeverReplaced() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 10)
        try FileManager.default.createDirectory(atPath: temp.file("out"), withIntermediateDirectories: false)
        let bundle = temp.file("out/bundle.tar.zst")
        for existing in ["bundle.tar.zst", "bundle.tar.zst.000", "bundle.tar.zst.007", "bundle.tar.zst.1234"] {
            try temp.write("out/" + existing, Array("old".utf8))
            for split in [nil, Int64(100)] {
                let error = expectArchiveError {
                    try writeBundle(temp, payload, compression: .zstd, splitSize: split)
                }
                #expect(error.map(BundleErrorParts.init)?.kind == "bundleExists")
                #expect("\(error!)".contains(existing), "\(error!)")
                #expect(listing(temp.file("out")) == [existing])
                #expect(try bytes(temp.file("out/" + existing)) == Array("old".utf8))
            }
            try FileManager.default.removeItem(atPath: temp.file("out/" + existing))
        }
        // Names that only look alike are not the bundle's.
        for other in ["bundle.tar.zst.sha256", "bundle.tar.zst.00", "bundle.tar", "xbundle.tar.zst"] {
            try temp.write("out/" + other, [])
        }
        try writeBundle(temp, payload, compression: .zstd)
        #expect(exists(bundle))
    }

    @Test func missingOutputDirectoryIsAnError() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 10)
        let error = expectArchiveError {
            _ = try BundleArchiveWriter.write(
                to: temp.file("nowhere/bundle.tar.zst"), manifest: testManifest, signature: nil, payload: payload.files,
                expected: payload.expected, compression: .zstd, mtime: 0, splitSize: nil)
        }
        #expect(error.map { "\($0)" } == "\(temp.file("nowhere/bundle.tar.zst")): cannot write the bundle: cannot open its directory: No such file or directory")
    }

    @Test func partNamesFollowTheBundlePath() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 100_000)
        let result = try BundleArchiveWriter.write(
            to: temp.file("b.tar.zst"), manifest: testManifest, signature: nil, payload: payload.files,
            expected: payload.expected, compression: .zstd, mtime: 0, splitSize: 50_000)
        #expect(result.parts.map(\.file) == (0..<result.parts.count).map { temp.file("b.tar.zst.00\($0)") })
    }
}
