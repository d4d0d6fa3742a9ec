/// Why a fetch failed, with context; every URL in a case and message is redacted.
public enum TransportError: Error, Equatable, CustomStringConvertible {
    /// The URL could not be parsed.
    case invalidURL(String)
    /// The URL's scheme is not `http`, `https` or `file`.
    case unsupportedScheme(url: String)
    /// The server answered with a status that is not success (after any retries).
    case httpStatus(url: String, code: Int)
    /// libcurl failed: `code` is the CURLcode, `message` curl's text and detail.
    case network(url: String, code: Int, message: String)
    /// TLS failed (certificate verification, handshake, client certificate); never retried.
    case tls(url: String, code: Int, message: String)
    /// More than `limit` redirects were needed.
    case tooManyRedirects(url: String, limit: Int)
    /// A redirect was refused: HTTPS to plain HTTP, or to a scheme other than http(s).
    case insecureRedirect(from: String, to: String)
    /// The body is larger than the request's `maxBytes`.
    case sizeLimitExceeded(url: String, limit: Int64)
    /// The destination file could not be created, written or flushed.
    case io(path: String, message: String)
    /// The client's cancellation flag was set (Ctrl-C).
    case cancelled(url: String)
    /// A request header has an invalid name or a value with a line break, or is `Authorization`
    /// (credentials go in `TransferRequest.credentials`); nothing was sent.
    case invalidHeader(name: String)

    /// A message saying what failed, where, and why; never a credential.
    public var description: String {
        switch self {
        case let .invalidURL(url):
            return "invalid URL '\(url)'"
        case let .unsupportedScheme(url):
            return "unsupported URL scheme in '\(url)': only http://, https:// and file:// URLs can be fetched"
        case let .httpStatus(url, code):
            let reason = TransportError.reasonPhrase(code).map { " \($0)" } ?? ""
            return "\(url) answered HTTP \(code)\(reason)"
        case let .network(url, code, message):
            return "cannot fetch \(url): \(message) (curl error \(code))"
        case let .tls(url, code, message):
            // 60: the server's certificate does not chain to a trusted authority.
            let hint = code == 60 ? "; if the server uses a private certificate authority, set caFile: in the chart list or pass --ca-file" : ""
            return "TLS failure for \(url): \(message) (curl error \(code))\(hint)"
        case let .tooManyRedirects(url, limit):
            return "too many redirects fetching \(url): more than \(limit)"
        case let .insecureRedirect(from, to):
            return "refusing redirect from \(from) to \(to): a redirect may not leave HTTPS and may only lead to http(s)"
        case let .sizeLimitExceeded(url, limit):
            return "\(url) is larger than the limit of \(limit) bytes"
        case let .io(path, message):
            return "cannot write \(path): \(message)"
        case let .cancelled(url):
            return "cancelled fetching \(url)"
        case let .invalidHeader(name):
            return "invalid request header \"\(name)\": a name is a token, a value holds no line break, "
                + "and credentials are not passed as headers"
        }
    }

    /// The redacted URL the error is about, if any.
    public var url: String? {
        switch self {
        case let .invalidURL(url), let .unsupportedScheme(url), let .httpStatus(url, _),
             let .network(url, _, _), let .tls(url, _, _), let .tooManyRedirects(url, _),
             let .sizeLimitExceeded(url, _), let .cancelled(url):
            return url
        case let .insecureRedirect(from, _):
            return from
        case .io, .invalidHeader:
            return nil
        }
    }

    private static func reasonPhrase(_ code: Int) -> String? {
        switch code {
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: nil
        }
    }
}
