import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import struct Crypto.SHA256

/// The project's embedded example repository (examples/repo: its index.yaml and tarballs), read
/// at run time and served from memory at a made-up https URL through `FakeHTTPClient`.
struct ExampleRepository: Sendable {
    /// The URL the repository appears at (nothing listens there).
    static let url = "https://charts.example.test/stable"
    /// The folder the files are read from.
    static let folder = Fixtures.packageRoot + "/examples/repo"

    /// Bodies by URL: index.yaml and every tarball, each at `url/<file>`.
    var files: [String: [UInt8]] = [:]
    /// Errors by URL, thrown instead of answering with a body.
    var failures: [String: TransportError] = [:]

    /// Every file of the example repository at its URL.
    init() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.folder) {
            files[Self.url + "/" + name] = try Self.bytes(name)
        }
    }

    /// The bytes of a file in examples/repo.
    static func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file)))
    }

    /// The SHA-256 of a file in examples/repo, computed here (not by the code under test).
    static func sha256(_ file: String) throws -> Digest {
        Digest(bytes: SHA256.hash(data: try bytes(file)))
    }

    /// The URL of a file in the repository.
    static func url(_ file: String) -> String { url + "/" + file }

    /// The served index.yaml as text.
    var index: String {
        get { String(decoding: files[Self.url("index.yaml")] ?? [], as: UTF8.self) }
        set { files[Self.url("index.yaml")] = Array(newValue.utf8) }
    }

    /// Replaces the index digest of `file` with `digest` (hex), so the index promises other bytes.
    mutating func setIndexDigest(of file: String, to digest: String) throws {
        let real = try Self.sha256(file).hex
        precondition(index.contains(real), "the index has no digest for \(file)")
        index = index.replacingOccurrences(of: real, with: digest)
    }

    /// The body at the request's URL, the planned failure, or HTTP 404.
    func respond(_ request: TransferRequest) throws(TransportError) -> [UInt8] {
        if let failure = failures[request.url] { throw failure }
        guard let body = files[request.url] else { throw .httpStatus(url: request.url, code: 404) }
        return body
    }

    /// A fake client serving this repository as it is now, telling `recorder` of every request.
    func client(recorder: RequestRecorder) -> FakeHTTPClient {
        let served = self
        return FakeHTTPClient(recorder: recorder) { request throws(TransportError) in try served.respond(request) }
    }
}
