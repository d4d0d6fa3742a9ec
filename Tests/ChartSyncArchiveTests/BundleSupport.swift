import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// The SHA-256 of `bytes`, computed by `sha256sum` (independent of the code under test).
func sha256(_ bytes: [UInt8]) throws -> ChartSyncCore.Digest {
    let temp = try TemporaryDirectory(prefix: "chartsync-sha")
    let file = try temp.write("bytes", bytes)
    return ChartSyncCore.Digest(try sha256sum(file: file))!
}

/// The SHA-256 of the file at `path`, computed by `sha256sum`.
func sha256(file path: String) throws -> ChartSyncCore.Digest {
    ChartSyncCore.Digest(try sha256sum(file: path))!
}

/// The bytes of the file at `path`.
func bytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The size of the file at `path`.
func size(_ path: String) -> Int64 {
    var info = stat()
    return lstat(path, &info) == 0 ? Int64(info.st_size) : -1
}

/// A payload on disk: the files, what the writer is told to expect, and what the reader is told to expect.
struct Payload {
    var files: [BundlePayloadFile] = []
    var expected: [String: (size: Int64, sha256: ChartSyncCore.Digest)] = [:]
    var expectedFiles: [BundleExpectedFile] = []
    /// The bytes of every file by payload path.
    var contents: [String: [UInt8]] = [:]

    /// Adds `content` as the payload file `path`, stored at `source`.
    mutating func add(_ path: String, _ content: [UInt8], source: String, executable: Bool = false) throws {
        try FileManager.default.createDirectory(
            atPath: (source as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content).write(to: URL(fileURLWithPath: source))
        let digest = try sha256(file: source)
        files.append(BundlePayloadFile(path: path, source: source, executable: executable))
        expected[path] = (Int64(content.count), digest)
        expectedFiles.append(BundleExpectedFile(path: path, size: Int64(content.count), sha256: digest, executable: executable))
        contents[path] = content
    }
}

/// Real chart tarballs from the shared fixtures put into every test payload.
let payloadCharts = [
    "repo-argo-helm/argo-cd-0.1.0.tgz",
    "repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.14.0.tgz",
    "repo-grafana-helm-charts/packages/loki-2.1.0.tgz",
]

/// A payload of real chart tarballs and generated files under `<temp>/<directory>`: nested
/// directories, an executable script, an empty file, a non-ASCII name, a name longer than 100
/// bytes (a pax header), and `bigBytes` of pseudo-random data. Listed in an unsorted order.
func makePayload(_ temp: TemporaryDirectory, directory: String = "src", bigBytes: Int = 300_000) throws -> Payload {
    var payload = Payload()
    let root = temp.file(directory)
    try payload.add("scripts/sync-charts.sh", Array("#!/bin/sh\necho sync\n".utf8), source: root + "/scripts/sync-charts.sh",
                    executable: true)
    for chart in payloadCharts {
        let name = (chart as NSString).lastPathComponent
        try payload.add("charts/external/" + name, try bytes(Fixtures.path(chart)), source: root + "/charts/external/" + name)
    }
    try payload.add("versions.lock", Array("charts:\n  - name: argo-cd\n".utf8), source: root + "/versions.lock")
    try payload.add("charts/custom/app/templates/deployment.yaml", Array("kind: Deployment\n".utf8),
                    source: root + "/charts/custom/app/templates/deployment.yaml")
    try payload.add("charts/custom/app/Chart.yaml", Array("apiVersion: v2\nname: app\nversion: 1.0.0\n".utf8),
                    source: root + "/charts/custom/app/Chart.yaml")
    try payload.add("patches/empty", [], source: root + "/patches/empty")
    try payload.add("patches/ünïcode-näme.yaml", Array("a: b\n".utf8), source: root + "/patches/unicode.yaml")
    let long = "deep/" + String(repeating: "d", count: 60) + "/" + String(repeating: "f", count: 70) + ".bin"
    try payload.add(long, testBytes(count: 5000, seed: 7), source: root + "/long.bin")
    try payload.add("images/blob.bin", testBytes(count: bigBytes, seed: 42), source: root + "/images/blob.bin")
    return payload
}

/// The manifest bytes the tests put into bundles.
let testManifest = Array(#"{"apiVersion":"chartsync/v1","kind":"Bundle"}"#.utf8)
/// The signature bytes the tests put into bundles.
let testSignature = Array("untrusted comment: test\nRWQ=\n".utf8)

/// The parts of an ArchiveError the bundle tests look at.
struct BundleErrorParts: Equatable, CustomStringConvertible {
    var kind: String
    var entry: String?
    var part: String?

    init(_ error: ArchiveError) {
        switch error {
        case .unsafeEntry(_, let entry, _): kind = "unsafeEntry"; self.entry = entry
        case .noManifest(_, let first): kind = "noManifest"; entry = first
        case .entryTooLarge(_, let entry, _): kind = "entryTooLarge"; self.entry = entry
        case .fileTooLarge(_, let entry, _): kind = "fileTooLarge"; self.entry = entry
        case .archiveTooLarge(_, let entry, _): kind = "archiveTooLarge"; self.entry = entry
        case .tooManyEntries(_, let entry, _): kind = "tooManyEntries"; self.entry = entry
        case .entrySizeMismatch(_, let entry, _, _): kind = "entrySizeMismatch"; self.entry = entry
        case .entryDigestMismatch(_, let entry, _, _): kind = "entryDigestMismatch"; self.entry = entry
        case .missingEntries(_, let entries): kind = "missingEntries"; entry = entries.first
        case .truncatedBundle(_, let last, let entry, _): kind = "truncatedBundle"; self.entry = entry; part = last
        case .truncatedPart(let part, _, _): kind = "truncatedPart"; self.part = part
        case .corruptPart(let part, _): kind = "corruptPart"; self.part = part
        case .cannotReadPart(let part, _): kind = "cannotReadPart"; self.part = part
        case .unreadableEntry(_, let entry, _): kind = "unreadableEntry"; self.entry = entry
        case .unreadable: kind = "unreadable"
        case .payloadChanged(_, let entry, _): kind = "payloadChanged"; self.entry = entry
        case .cannotReadSource(_, let entry, _): kind = "cannotReadSource"; self.entry = entry
        case .invalidBundleRequest: kind = "invalidBundleRequest"
        case .bundleExists: kind = "bundleExists"
        case .partCountMismatch: kind = "partCountMismatch"
        case .destinationExists: kind = "destinationExists"
        default: kind = "other"
        }
    }

    var description: String { "\(kind) entry=\(entry ?? "-") part=\(part ?? "-")" }
}

/// Runs `body`, which must throw an ArchiveError, and returns it (recording an issue otherwise).
func expectArchiveError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ArchiveError? {
    do {
        try body()
        Issue.record("no error was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as ArchiveError {
        return error
    } catch {
        Issue.record("not an ArchiveError: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
