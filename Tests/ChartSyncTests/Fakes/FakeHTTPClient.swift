import ChartSyncCore
import ChartSyncTransport
import Foundation
import Synchronization
import struct Crypto.SHA256

/// An `HTTPClient` that answers from a closure, for tests where a real server adds nothing:
/// the closure gives the body (or throws the transport error the fetch fails with); the fake
/// writes it to the destination and returns what `CurlHTTPClient` would: the redacted URL, the
/// byte count and the SHA-256 of exactly the bytes written.
struct FakeHTTPClient: HTTPClient {
    /// The body for a request, or the error its fetch fails with.
    let respond: @Sendable (TransferRequest) throws(TransportError) -> [UInt8]
    /// Hears every request before it is answered; nil keeps none.
    let recorder: RequestRecorder?

    /// A fake answering with `respond`, telling `recorder` of every request.
    init(recorder: RequestRecorder? = nil, respond: @escaping @Sendable (TransferRequest) throws(TransportError) -> [UInt8]) {
        self.recorder = recorder
        self.respond = respond
    }

    /// Writes the closure's body to `destination`; on a thrown error nothing is written.
    func fetch(_ request: TransferRequest, to destination: String) throws(TransportError) -> TransferResult {
        recorder?.record(request)
        let body = try respond(request)
        let shown = RepositoryURL.redacted(request.url)
        if let limit = request.maxBytes, Int64(body.count) > limit {
            throw .sizeLimitExceeded(url: shown, limit: limit)
        }
        do {
            try Data(body).write(to: URL(fileURLWithPath: destination))
        } catch {
            throw .io(path: destination, message: "\(error)")
        }
        return TransferResult(url: shown, bytes: Int64(body.count), sha256: Digest(bytes: SHA256.hash(data: body)),
                              status: request.url.hasPrefix("file:") ? 0 : 200, attempts: 1)
    }
}

/// The requests a fake client was asked for, in the order they came (thread-safe: pull fetches
/// from several threads).
final class RequestRecorder: Sendable {
    private let requests = Mutex<[TransferRequest]>([])

    /// An empty recorder.
    init() {}

    /// Keeps `request`.
    func record(_ request: TransferRequest) {
        requests.withLock { $0.append(request) }
    }

    /// Every request so far.
    var all: [TransferRequest] { requests.withLock { $0 } }

    /// The URLs requested so far, in order.
    var urls: [String] { all.map(\.url) }

    /// Forgets what was recorded (before the step a test looks at).
    func reset() {
        requests.withLock { $0.removeAll() }
    }
}
