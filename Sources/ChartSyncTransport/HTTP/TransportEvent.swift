/// Something the transport wants the user to know (retry, insecure TLS, redirect); URLs are redacted.
public enum TransportEvent: Sendable, Equatable, CustomStringConvertible {
    /// A failed attempt will be retried: `attempt` is the number of the attempt about to start (2 for the first retry).
    case retrying(url: String, attempt: Int, delay: Double, reason: String)
    /// TLS verification is switched off for this HTTPS URL.
    case insecureTLS(url: String)
    /// A redirect is being followed.
    case redirected(from: String, to: String)

    /// A one-line human-readable account of the event.
    public var description: String {
        switch self {
        case let .retrying(url, attempt, delay, reason):
            let rounded = (delay * 100).rounded() / 100
            return "retrying \(url) (attempt \(attempt)) in \(rounded) s after: \(reason)"
        case let .insecureTLS(url):
            return "warning: TLS certificate verification is disabled for \(url)"
        case let .redirected(from, to):
            return "redirected from \(from) to \(to)"
        }
    }
}
