import ChartSyncCore

/// What to fetch: a URL, optional credentials and an optional size cap.
public struct TransferRequest: Sendable, Equatable {
    /// The `http://`, `https://` or `file://` URL to fetch; userinfo in it is used as basic credentials.
    public var url: String
    /// Credentials sent to the origin of `url` (and to redirect targets only when allowed).
    public var credentials: Credentials?
    /// The most bytes the body may have (e.g. for an index); more fails with `sizeLimitExceeded`.
    public var maxBytes: Int64?

    /// Creates a request for `url`.
    public init(url: String, credentials: Credentials? = nil, maxBytes: Int64? = nil) {
        self.url = url
        self.credentials = credentials
        self.maxBytes = maxBytes
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
