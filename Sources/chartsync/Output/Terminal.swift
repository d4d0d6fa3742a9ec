import ChartSync
import ChartSyncTransport
import Foundation

/// Writing to stdout (results) and stderr (progress and diagnostics).
enum Terminal {
    /// Keeps diagnostic lines from interleaving.
    private static let lock = NSLock()

    /// A result line on stdout.
    static func output(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// A diagnostic line on stderr.
    static func note(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(("chartsync: " + text + "\n").utf8))
    }

    /// An error line on stderr.
    static func error(_ text: String) {
        let body = text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
        note("error: " + body)
    }

    /// Reports library events on stderr: warnings always, the rest when verbose.
    static func eventHandler(verbose: Bool) -> ChartSyncEventHandler {
        { event in
            switch event {
            case .indexWarning: note(event.description)
            default: if verbose { note(event.description) }
            }
        }
    }

    /// Reports transport events on stderr: insecure TLS and retries always, redirects when verbose.
    static func transportHandler(verbose: Bool) -> @Sendable (TransportEvent) -> Void {
        { event in
            switch event {
            case .insecureTLS: note("warning: " + event.description)
            case .retrying: note(event.description)
            default: if verbose { note(event.description) }
            }
        }
    }
}
