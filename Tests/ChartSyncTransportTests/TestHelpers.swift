import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// Collects what a client reports, from any thread.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var storedEvents: [TransportEvent] = []
    private var storedSleeps: [Double] = []

    var events: [TransportEvent] { lock.withLock { storedEvents } }
    var sleeps: [Double] { lock.withLock { storedSleeps } }

    var retries: [TransportEvent] {
        events.filter { if case .retrying = $0 { true } else { false } }
    }

    func record(_ event: TransportEvent) { lock.withLock { storedEvents.append(event) } }
    func recordSleep(_ seconds: Double) { lock.withLock { storedSleeps.append(seconds) } }
}

/// Options with short retry delays so that retry tests stay quick.
func quickOptions(maxAttempts: Int = 4) -> TransportOptions {
    TransportOptions(connectTimeout: 5, lowSpeedTime: 10,
                     retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: 0.01, maxDelay: 5, jitter: 0.1))
}

/// A client that records events and sleeps for real.
func makeClient(_ options: TransportOptions = quickOptions(), recorder: Recorder) -> CurlHTTPClient {
    CurlHTTPClient(options: options, onEvent: { recorder.record($0) })
}

/// A client that records events and the sleeps it asks for, without sleeping.
func makeNonSleepingClient(_ options: TransportOptions = quickOptions(), recorder: Recorder) -> CurlHTTPClient {
    CurlHTTPClient(options: options, onEvent: { recorder.record($0) }, sleep: { recorder.recordSleep($0) })
}

/// Fetches, expecting failure; records an issue and returns nil when it succeeds.
func fetchError(_ client: some HTTPClient, _ request: TransferRequest, to path: String,
                sourceLocation: SourceLocation = #_sourceLocation) -> TransportError? {
    do {
        let result = try client.fetch(request, to: path)
        Issue.record("expected an error, got \(result)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Fetches `url` (no credentials) with a fresh recording client.
func fetchError(_ url: String, to path: String, options: TransportOptions = quickOptions(),
                sourceLocation: SourceLocation = #_sourceLocation) -> TransportError? {
    fetchError(CurlHTTPClient(options: options), TransferRequest(url: url), to: path,
               sourceLocation: sourceLocation)
}

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

func contents(_ path: String) -> [UInt8] {
    (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
}

func text(_ path: String) -> String { String(decoding: contents(path), as: UTF8.self) }
