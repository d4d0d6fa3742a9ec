/// TLS, timeouts, redirects and retries for a `CurlHTTPClient`.
public struct TransportOptions: Sendable, Equatable {
    /// The user agent sent when none is given.
    public static let defaultUserAgent = "chartsync/0.1.0"

    /// A PEM file with the CA certificates to trust instead of the system store.
    public var caFile: String?
    /// A PEM client certificate for mutual TLS.
    public var certFile: String?
    /// The PEM private key of `certFile`.
    public var keyFile: String?
    /// Turns off peer and host verification (emits `.insecureTLS`); for tests and emergencies only.
    public var insecureSkipTLSVerify: Bool
    /// Seconds allowed to establish a connection.
    public var connectTimeout: Double
    /// With `lowSpeedTime`: abort when fewer than this many bytes per second arrive for that long.
    public var lowSpeedLimit: Int
    /// Seconds the transfer may stay below `lowSpeedLimit` before it is aborted as stalled.
    public var lowSpeedTime: Int
    /// The most redirects followed before `tooManyRedirects`.
    public var maxRedirects: Int
    /// When true, credentials are also sent to redirect targets on another scheme, host or port.
    public var allowCredentialsOnRedirect: Bool
    /// When and how long to wait before trying again.
    public var retry: RetryPolicy
    /// The User-Agent header.
    public var userAgent: String

    /// Creates options; the defaults verify TLS, follow 10 redirects and try 4 times.
    public init(
        caFile: String? = nil,
        certFile: String? = nil,
        keyFile: String? = nil,
        insecureSkipTLSVerify: Bool = false,
        connectTimeout: Double = 15,
        lowSpeedLimit: Int = 1,
        lowSpeedTime: Int = 30,
        maxRedirects: Int = 10,
        allowCredentialsOnRedirect: Bool = false,
        retry: RetryPolicy = RetryPolicy(),
        userAgent: String = TransportOptions.defaultUserAgent
    ) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maxRedirects = maxRedirects
        self.allowCredentialsOnRedirect = allowCredentialsOnRedirect
        self.retry = retry
        self.userAgent = userAgent
    }
}

/// Exponential backoff with jitter, capped, honouring `Retry-After`.
public struct RetryPolicy: Sendable, Equatable {
    /// The most attempts in total (1 means no retry).
    public var maxAttempts: Int
    /// The delay before the first retry, in seconds; it doubles for each further retry.
    public var baseDelay: Double
    /// The longest delay, in seconds, including one asked for by `Retry-After`.
    public var maxDelay: Double
    /// The fraction (0...1) by which a backoff delay is randomly shortened or lengthened.
    public var jitter: Double

    /// Creates a policy; the defaults try 4 times, waiting about 0.5, 1 and 2 seconds.
    public init(maxAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 30, jitter: Double = 0.2) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(1, max(0, jitter))
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The seconds to wait after failed attempt number `failedAttempt` (1-based), given the server's
    /// `Retry-After` in seconds if any and a random number in 0..<1.
    public func delay(afterAttempt failedAttempt: Int, retryAfter: Double? = nil, random: Double) -> Double {
        let exponent = Double(min(max(failedAttempt - 1, 0), 62))
        var backoff = baseDelay * pow2(exponent)
        backoff *= 1 - jitter + 2 * jitter * min(max(random, 0), 1)
        var delay = min(backoff, maxDelay)
        if let retryAfter, retryAfter > delay {
            delay = min(retryAfter, maxDelay)
        }
        return max(0, delay)
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && value < 1e12 {
            value *= 2
            remaining -= 1
        }
        return value
    }
}
