import ChartSyncCore

/// The HTTP request methods chartsync uses.
public enum HTTPMethod: String, Sendable, Equatable {
    /// Fetch the body.
    case get = "GET"
    /// Only the status and headers (libcurl's `CURLOPT_NOBODY`).
    case head = "HEAD"
    /// Store the request body at the URL (a registry's manifest, the end of a blob upload).
    case put = "PUT"
    /// Start something (a registry's blob upload session, a cross-repository mount).
    case post = "POST"
    /// Add to something (a chunk of a registry's blob upload).
    case patch = "PATCH"

    /// Whether requests with this method carry a body (possibly empty).
    public var sendsBody: Bool { self == .put || self == .post || self == .patch }
}

/// The bytes a PUT, POST or PATCH sends: in memory, or a range of a file read as it is sent
/// (never held in memory). Sent again from its start on a retry or a redirect.
public enum RequestBody: Sendable, Equatable {
    /// These bytes.
    case bytes([UInt8])
    /// `length` bytes of the file at `path` from `offset`.
    case file(path: String, offset: Int64, length: Int64)

    /// The number of bytes sent.
    public var count: Int64 {
        switch self {
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        }
    }
}

/// One HTTP header line: a name (case-insensitive) and its value.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible {
    /// The header name as written, e.g. `Accept`.
    public var name: String
    /// The value, without surrounding spaces.
    public var value: String

    /// Creates a header.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `Name: value`.
    public var description: String { "\(name): \(value)" }
}

/// What to fetch: a URL, optional credentials and an optional size cap; the method and extra
/// request headers (e.g. `Accept`) for API calls such as a container registry's.
public struct TransferRequest: Sendable, Equatable {
    /// The `http://`, `https://` or `file://` URL to fetch; userinfo in it is used as basic credentials.
    public var url: String
    /// Credentials sent to the origin of `url` (and to redirect targets only when allowed).
    public var credentials: Credentials?
    /// The most bytes the body may have (e.g. for an index); more fails with `sizeLimitExceeded`.
    public var maxBytes: Int64?
    /// GET (the default) or HEAD.
    public var method: HTTPMethod
    /// Extra request headers, sent on every hop of a redirect. They must not carry secrets:
    /// `Authorization` is refused (`invalidHeader`); credentials go in `credentials`, which the
    /// redirect rules keep on the original origin.
    public var headers: [HTTPHeader]
    /// Told the body's byte count as it arrives (for a progress display); nil for none.
    public var progress: TransferProgress?
    /// What a PUT, POST or PATCH sends (nil: an empty body); ignored for GET and HEAD.
    public var body: RequestBody?

    /// Creates a request for `url`.
    public init(url: String, credentials: Credentials? = nil, maxBytes: Int64? = nil,
                method: HTTPMethod = .get, headers: [HTTPHeader] = [], progress: TransferProgress? = nil,
                body: RequestBody? = nil) {
        self.url = url
        self.credentials = credentials
        self.maxBytes = maxBytes
        self.method = method
        self.headers = headers
        self.progress = progress
        self.body = body
    }
}

/// Receives the byte count of a body written to disk as it arrives, at most once per
/// `TransferProgress.step` bytes (and never from more than one thread at a time).
public final class TransferProgress: Sendable, Equatable {
    /// Bytes between two reports.
    public static let step: Int64 = 256 * 1024
    private let report: @Sendable (Int64) -> Void

    /// A receiver calling `report` with the bytes received so far.
    public init(_ report: @escaping @Sendable (Int64) -> Void) {
        self.report = report
    }

    /// Reports `bytes`.
    func callAsFunction(_ bytes: Int64) { report(bytes) }

    public static func == (lhs: TransferProgress, rhs: TransferProgress) -> Bool { lhs === rhs }
}

/// A response held in memory: the final status and headers (after redirects) and a small body.
public struct HTTPResponse: Sendable, Equatable {
    /// The URL the response finally came from, after redirects, redacted.
    public let url: String
    /// The HTTP status of the final response (0 for `file://`).
    public let status: Int
    /// The final response's headers in the order received (not those of redirect hops).
    public let headers: [HTTPHeader]
    /// The body: for a 2xx response all of it (at most the request's `maxBytes`); for another
    /// status its first 64 KiB at most (`bodyTruncated` tells); empty for HEAD.
    public let body: [UInt8]
    /// Whether the body of a non-2xx response was cut at 64 KiB.
    public let bodyTruncated: Bool
    /// How many attempts were made, 1 when the first one succeeded.
    public let attempts: Int

    /// Creates a response (mostly for fakes).
    public init(url: String, status: Int, headers: [HTTPHeader], body: [UInt8], bodyTruncated: Bool = false,
                attempts: Int = 1) {
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.attempts = attempts
    }

    /// The first value of the header `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// Every value of the header `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map(\.value)
    }
}

/// What was fetched: final URL (redacted), byte count, SHA-256 of the bytes written, status, attempts.
public struct TransferResult: Sendable, Equatable {
    /// The URL the body finally came from, after redirects, with userinfo and secret query values removed.
    public let url: String
    /// The number of bytes written to the destination.
    public let bytes: Int64
    /// The SHA-256 of exactly the bytes written to the destination.
    public let sha256: Digest
    /// The final HTTP status (0 for `file://`, which has no HTTP exchange).
    public let status: Int
    /// How many attempts were made, 1 when the first one succeeded.
    public let attempts: Int

    /// Creates a result (mostly for fakes of `HTTPClient`).
    public init(url: String, bytes: Int64, sha256: Digest, status: Int, attempts: Int) {
        self.url = url
        self.bytes = bytes
        self.sha256 = sha256
        self.status = status
        self.attempts = attempts
    }
}

/// The role: fetch a URL into a file, streaming, hashing as bytes arrive.
public protocol HTTPClient: Sendable {
    /// Fetches `request` into the file at `destination` (created or truncated; removed again on failure).
    func fetch(_ request: TransferRequest, to destination: String) throws(TransportError) -> TransferResult
}
