internal import CCurl
import ChartSyncBasics
import ChartSyncCore
import Glibc
import Synchronization

/// The libcurl implementation of `HTTPClient`: streams to disk while hashing, follows redirects
/// itself (credentials stay with the original origin), verifies TLS, retries transient failures.
/// Thread-safe: every call uses an easy handle of its own, so several threads may fetch at once.
/// Between calls the handles wait in the client, keeping their open connections: the next fetch
/// from the same host (another blob of the same registry) skips the TCP and TLS handshakes.
/// (libcurl's shared connection cache, `CURL_LOCK_DATA_CONNECT`, is documented as unsupported
/// between concurrent threads; a handle, and so its connections, serves one fetch at a time.)
public final class CurlHTTPClient: HTTPClient {
    /// The options every fetch uses.
    public let options: TransportOptions
    private let onEvent: (@Sendable (TransportEvent) -> Void)?
    private let sleep: @Sendable (Double) -> Void
    /// When set, transfers stop at the next progress callback and fetch throws `cancelled`.
    public let cancellation: Cancellation
    /// Easy handles between fetches, each with its idle connections. libcurl reuses a connection
    /// only for the same scheme, host, port and TLS settings; credentials are options of a
    /// request, cleared with the others when a handle comes back, and never stay with a connection
    /// (basic and bearer are request headers).
    private let idleHandles = Mutex<[EasyHandle]>([])
    /// The most handles kept between fetches (about the most fetches at once).
    static let maxIdleHandles = 64

    /// Creates a client; `onEvent` hears about retries, redirects and insecure TLS, `sleep` waits
    /// between attempts (injectable for tests; the default blocks the calling thread, waking early
    /// when `cancellation` is set).
    public init(
        options: TransportOptions = .init(),
        onEvent: (@Sendable (TransportEvent) -> Void)? = nil,
        sleep: (@Sendable (Double) -> Void)? = nil,
        cancellation: Cancellation = Cancellation()
    ) {
        self.cancellation = cancellation
        self.options = options
        self.onEvent = onEvent
        self.sleep = sleep ?? { seconds in
            var left = seconds
            while left > 0 && !cancellation.isCancelled {
                CurlHTTPClient.threadSleep(min(left, 0.1))
                left -= 0.1
            }
        }
    }

    deinit {
        for handle in idleHandles.withLock({ $0 }) { curl_easy_cleanup(handle.raw) }
    }

    /// An idle easy handle, or a new one; nil when libcurl cannot make one.
    fileprivate func takeHandle() -> UnsafeMutableRawPointer? {
        if let idle = idleHandles.withLock({ $0.popLast() }) { return idle.raw }
        return curl_easy_init()
    }

    /// Takes back a handle after a fetch: its options are cleared (nothing of the request stays),
    /// its connections kept.
    fileprivate func giveBack(_ handle: UnsafeMutableRawPointer) {
        curl_easy_reset(handle)
        let kept = idleHandles.withLock { idle in
            guard idle.count < CurlHTTPClient.maxIdleHandles else { return false }
            idle.append(EasyHandle(raw: handle))
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    /// Blocks the calling thread for `seconds`.
    public static func threadSleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
    }

    /// Fetches `request` into `destination`, retrying transient failures; see `HTTPClient`.
    public func fetch(_ request: TransferRequest, to destination: String) throws(TransportError) -> TransferResult {
        let prepared = try prepare(request)
        let sink = try BodySink(path: destination, maxBytes: request.maxBytes, progress: request.progress)
        var succeeded = false
        defer { if !succeeded { sink.discard() } }
        let (final, attempts, _) = try transfer(request, prepared, sink: sink, acceptAnyStatus: false)
        let digest = try sink.finish()
        succeeded = true
        return TransferResult(url: RepositoryURL.redacted(final.url.url), bytes: sink.bytes, sha256: digest,
                              status: final.status, attempts: attempts)
    }

    /// The body limit of `send` when the request gives no `maxBytes`: 4 MiB (registries cap
    /// manifests at 4 MiB too).
    public static let defaultResponseLimit: Int64 = 4 << 20

    /// Sends `request` and returns the final response in memory, whatever its status: the status,
    /// the headers and the body (at most `maxBytes`, default `defaultResponseLimit`; larger fails
    /// with `sizeLimitExceeded`). The same rules as `fetch`: redirects followed with credentials
    /// kept on the original origin, TLS options, retries of transient failures. A retryable status
    /// (408, 429, 5xx) that persists after the last attempt is thrown as `httpStatus`; a redirect
    /// without a location too.
    public func send(_ request: TransferRequest) throws(TransportError) -> HTTPResponse {
        let prepared = try prepare(request)
        let sink = BodySink(memoryLimit: request.maxBytes ?? CurlHTTPClient.defaultResponseLimit)
        let (final, attempts, headers) = try transfer(request, prepared, sink: sink, acceptAnyStatus: true)
        return HTTPResponse(url: RepositoryURL.redacted(final.url.url), status: final.status, headers: headers,
                            body: sink.memory, bodyTruncated: sink.abortedDiscard, attempts: attempts)
    }

    /// A request checked and ready: its parsed URL, the credentials to send and the secrets to scrub.
    private struct Prepared {
        let start: CurlURL
        let credentials: Credentials?
        let secrets: [String]
    }

    private func prepare(_ request: TransferRequest) throws(TransportError) -> Prepared {
        let start = try CurlURL.parse(request.url)
        guard CurlGlobal.code == CURLE_OK.rawValue else {
            throw .network(url: RepositoryURL.redacted(start.url), code: Int(CurlGlobal.code),
                           message: "curl_global_init failed")
        }
        for header in request.headers where !CurlHTTPClient.isValid(header) {
            throw .invalidHeader(name: header.name)
        }
        var credentials = request.credentials
        if credentials == nil, let username = start.username {
            credentials = .basic(username: username, password: start.password ?? "")
        }
        var secrets = credentials?.secrets ?? []
        if let password = start.password { secrets.append(password) }
        return Prepared(start: start, credentials: credentials, secrets: secrets)
    }

    /// A header libcurl can send as it is: a token name (not `Authorization`), a value without
    /// control characters other than tab.
    static func isValid(_ header: HTTPHeader) -> Bool {
        let tokenExtras = Set("!#$%&'*+-.^_`|~".utf8)
        func isTokenByte(_ byte: UInt8) -> Bool {
            tokenExtras.contains(byte) || (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte)
                || (0x61...0x7a).contains(byte)
        }
        guard !header.name.isEmpty, header.name.lowercased() != "authorization",
              header.name.utf8.allSatisfy(isTokenByte)
        else { return false }
        return header.value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7f) }
    }

    /// Runs attempts until one succeeds or a failure is final; the final hop, the number of
    /// attempts and the final response's headers.
    private func transfer(_ request: TransferRequest, _ prepared: Prepared, sink: BodySink, acceptAnyStatus: Bool)
        throws(TransportError) -> (AttemptSuccess, Int, [HTTPHeader]) {
        let startRedacted = RepositoryURL.redacted(prepared.start.url)
        let source = request.method.sendsBody ? try BodySource(request.body ?? .bytes([])) : nil
        guard let exchange = Exchange(
            client: self, sink: sink, source: source, start: prepared.start, credentials: prepared.credentials,
            secrets: prepared.secrets,
            request: request, acceptAnyStatus: acceptAnyStatus)
        else {
            throw .network(url: startRedacted, code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed")
        }
        var attempt = 1
        while true {
            guard !cancellation.isCancelled else { throw .cancelled(url: startRedacted) }
            switch exchange.run(client: self) {
            case let .success(final):
                return (final, attempt, acceptAnyStatus ? exchange.responseHeaders() : [])
            case let .failure(failure):
                guard failure.retryable, attempt < options.retry.maxAttempts else { throw failure.error }
                let delay = options.retry.delay(
                    afterAttempt: attempt, retryAfter: failure.retryAfter, random: Double.random(in: 0..<1))
                attempt += 1
                onEvent?(.retrying(url: startRedacted, attempt: attempt, delay: delay, reason: failure.reason))
                sleep(delay)
            }
        }
    }

    fileprivate func emit(_ event: TransportEvent) {
        onEvent?(event)
    }
}

/// A libcurl easy handle waiting in a client between fetches (used by one thread at a time).
private struct EasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// The one-time, thread-safe `curl_global_init` (Swift initializes static lets exactly once).
private enum CurlGlobal {
    static let code: UInt32 = curl_global_init(ccurl_global_default).rawValue
}

/// A failed attempt: the error, and whether and when to try again.
private struct AttemptFailure: Error {
    let error: TransportError
    var retryable = false
    var retryAfter: Double? = nil
    var reason: String = ""
}

/// The end of a successful attempt: where the body came from and its status.
private struct AttemptSuccess {
    let url: CurlURL
    let status: Int
}

/// One fetch's state across attempts and redirect hops; used by one thread only.
private final class Exchange {
    let handle: UnsafeMutableRawPointer
    /// The client the handle goes back to.
    let client: CurlHTTPClient
    let sink: BodySink
    /// What a PUT, POST or PATCH sends; nil for GET and HEAD.
    let source: BodySource?
    let start: CurlURL
    let credentials: Credentials?
    let secrets: [String]
    let maxBytes: Int64?
    let method: HTTPMethod
    /// Whether any final (non-redirect, non-retryable) status ends an attempt successfully.
    let acceptAnyStatus: Bool
    /// The request headers as a libcurl list (nil when there are none); freed in deinit.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    var warnedInsecure = false
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    /// Takes an easy handle from `client`; nil when libcurl cannot make one.
    init?(client: CurlHTTPClient, sink: BodySink, source: BodySource?, start: CurlURL, credentials: Credentials?,
          secrets: [String], request: TransferRequest, acceptAnyStatus: Bool) {
        guard let handle = client.takeHandle() else { return nil }
        self.handle = handle
        self.client = client
        self.sink = sink
        self.source = source
        self.start = start
        self.credentials = credentials
        self.secrets = secrets
        maxBytes = sink.maxBytes
        method = request.method
        self.acceptAnyStatus = acceptAnyStatus
        for header in request.headers {
            // "Name;" is libcurl's way to send a header with an empty value ("Name:" would remove it).
            let line = header.value.isEmpty ? header.name + ";" : header.name + ": " + header.value
            headerList = curl_slist_append(headerList, line)
        }
        // A body goes at once: no `Expect: 100-continue` round trip (registries answer uploads directly).
        if source != nil { headerList = curl_slist_append(headerList, "Expect:") }
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        client.giveBack(handle)   // first: the handle no longer points at the list and the buffer
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// The headers of the last response received on the handle (server headers only, not those
    /// of a proxy's CONNECT or of 1xx responses).
    func responseHeaders() -> [HTTPHeader] {
        var headers: [HTTPHeader] = []
        var previous: UnsafeMutablePointer<curl_header>?
        while let header = curl_easy_nextheader(handle, ccurl_header_origin_server, -1, previous) {
            if let name = header.pointee.name {
                let value = header.pointee.value.map { String(cString: $0) } ?? ""
                headers.append(HTTPHeader(String(cString: name), value))
            }
            previous = header
        }
        return headers
    }

    /// One attempt: the request and every redirect after it.
    func run(client: CurlHTTPClient) -> Result<AttemptSuccess, AttemptFailure> {
        let options = client.options
        var current = start
        var redirects = 0
        while true {
            let isHTTP = current.scheme != "file"
            do {
                try sink.restart(handle: handle, isHTTP: isHTTP)
            } catch {
                return .failure(AttemptFailure(error: error))
            }
            source?.rewind()
            let sendCredentials = current.sameOrigin(as: start) || options.allowCredentialsOnRedirect
            if let failure = configure(url: current, client: client, sendCredentials: sendCredentials) {
                return .failure(failure)
            }
            if current.scheme == "https" && options.insecureSkipTLSVerify && !warnedInsecure {
                warnedInsecure = true
                client.emit(.insecureTLS(url: RepositoryURL.redacted(current.url)))
            }
            errorBuffer[0] = 0
            let code = withExtendedLifetime((sink, source)) { curl_easy_perform(handle) }
            var status = 0
            _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            let here = RepositoryURL.redacted(current.url)

            if let writeErrno = sink.writeErrno {
                return .failure(AttemptFailure(error: .io(path: sink.path, message: SystemError.text(writeErrno))))
            }
            if let source, let readErrno = source.readErrno {
                return .failure(AttemptFailure(error: .io(path: source.path, message: SystemError.text(readErrno))))
            }
            let success = !isHTTP || (200..<300).contains(status)
            if success && (sink.sizeExceeded || code == CURLE_FILESIZE_EXCEEDED) {
                return .failure(AttemptFailure(error: .sizeLimitExceeded(url: here, limit: maxBytes ?? 0)))
            }
            if code != CURLE_OK && !(code == CURLE_WRITE_ERROR && sink.abortedDiscard)
                && !(code == CURLE_FILESIZE_EXCEEDED && !success && status > 0) {
                return .failure(curlFailure(code, url: current))
            }
            if success {
                return .success(AttemptSuccess(url: current, status: isHTTP ? status : 0))
            }
            if (300..<400).contains(status) && status != 304 {
                var location: UnsafeMutablePointer<CChar>?
                guard ccurl_getinfo_string(handle, CURLINFO_REDIRECT_URL, &location) == CURLE_OK,
                      let location else {
                    return .failure(AttemptFailure(error: .httpStatus(url: here, code: status)))
                }
                let targetText = String(cString: location)
                redirects += 1
                guard redirects <= options.maxRedirects else {
                    return .failure(AttemptFailure(
                        error: .tooManyRedirects(url: RepositoryURL.redacted(start.url), limit: options.maxRedirects)))
                }
                let target: CurlURL
                do {
                    target = try CurlURL.parse(targetText)
                } catch {
                    if case .unsupportedScheme = error {
                        return .failure(AttemptFailure(
                            error: .insecureRedirect(from: here, to: RepositoryURL.redacted(targetText))))
                    }
                    return .failure(AttemptFailure(error: error))
                }
                let allowed = target.scheme == "https" || (target.scheme == "http" && current.scheme == "http")
                guard allowed else {
                    return .failure(AttemptFailure(
                        error: .insecureRedirect(from: here, to: RepositoryURL.redacted(target.url))))
                }
                client.emit(.redirected(from: here, to: RepositoryURL.redacted(target.url)))
                current = target
                continue
            }
            var failure = AttemptFailure(error: .httpStatus(url: here, code: status))
            failure.retryable = status == 408 || status == 429 || (500...599).contains(status)
            if acceptAnyStatus && !failure.retryable {
                return .success(AttemptSuccess(url: current, status: status))
            }
            failure.reason = "HTTP \(status)"
            var retryAfter: curl_off_t = 0
            if ccurl_getinfo_off(handle, CURLINFO_RETRY_AFTER, &retryAfter) == CURLE_OK, retryAfter > 0 {
                failure.retryAfter = Double(retryAfter)
                failure.reason += " (Retry-After: \(retryAfter) s)"
            }
            return .failure(failure)
        }
    }

    /// Sets every option for one request to `url`; a failure if libcurl refuses one.
    private func configure(url: CurlURL, client: CurlHTTPClient, sendCredentials: Bool) -> AttemptFailure? {
        let options = client.options
        curl_easy_reset(handle)
        var results: [CURLcode] = []
        func long(_ option: CURLoption, _ value: Int) { results.append(ccurl_setopt_long(handle, option, value)) }
        func string(_ option: CURLoption, _ value: String) {
            results.append(ccurl_setopt_string(handle, option, value))
        }
        string(CURLOPT_URL, url.url)
        string(CURLOPT_PROTOCOLS_STR, "http,https,file")
        long(CURLOPT_FOLLOWLOCATION, 0)
        if method == .head { long(CURLOPT_NOBODY, 1) }
        if let source {
            long(CURLOPT_UPLOAD, 1)
            string(CURLOPT_CUSTOMREQUEST, method.rawValue)
            results.append(ccurl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(source.body.count)))
            results.append(ccurl_setopt_data_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
                guard let buffer, let context else { return BodySource.abort }
                let source = Unmanaged<BodySource>.fromOpaque(context).takeUnretainedValue()
                return source.read(into: UnsafeMutableRawPointer(buffer), capacity: size * count)
            })
            results.append(ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque()))
        }
        if let headerList { results.append(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)) }
        long(CURLOPT_NOSIGNAL, 1)
        long(CURLOPT_TCP_KEEPALIVE, 1)
        // Larger receive blocks: fewer callbacks and writes for big charts (curl's own tool uses 100 KiB).
        long(CURLOPT_BUFFERSIZE, 512 * 1024)
        long(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(options.connectTimeout * 1000)))
        long(CURLOPT_LOW_SPEED_LIMIT, max(0, options.lowSpeedLimit))
        long(CURLOPT_LOW_SPEED_TIME, max(0, options.lowSpeedTime))
        string(CURLOPT_USERAGENT, options.userAgent)
        results.append(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        if let maxBytes, method != .head {
            results.append(ccurl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxBytes)))
        }
        results.append(ccurl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<BodySink>.fromOpaque(context).takeUnretainedValue()
            return sink.receive(UnsafeRawPointer(data), count: size * count)
        })
        results.append(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque()))
        long(CURLOPT_NOPROGRESS, 0)
        results.append(ccurl_setopt_xferinfo_callback(handle) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<Cancellation>.fromOpaque(context).takeUnretainedValue().isCancelled ? 1 : 0
        })
        results.append(ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA,
                                            Unmanaged.passUnretained(client.cancellation).toOpaque()))
        if let caFile = options.caFile { string(CURLOPT_CAINFO, caFile) }
        if let certFile = options.certFile { string(CURLOPT_SSLCERT, certFile) }
        if let keyFile = options.keyFile { string(CURLOPT_SSLKEY, keyFile) }
        if options.insecureSkipTLSVerify {
            long(CURLOPT_SSL_VERIFYPEER, 0)
            long(CURLOPT_SSL_VERIFYHOST, 0)
        } else {
            long(CURLOPT_SSL_VERIFYPEER, 1)
            long(CURLOPT_SSL_VERIFYHOST, 2)
        }
        if sendCredentials, let credentials {
            switch credentials {
            case let .basic(username, password):
                long(CURLOPT_HTTPAUTH, ccurl_auth_basic)
                string(CURLOPT_USERNAME, username)
                string(CURLOPT_PASSWORD, password)
            case let .bearer(token):
                long(CURLOPT_HTTPAUTH, ccurl_auth_bearer)
                string(CURLOPT_XOAUTH2_BEARER, token)
            }
        }
        if let bad = results.first(where: { $0 != CURLE_OK }) {
            return AttemptFailure(error: .network(
                url: RepositoryURL.redacted(url.url), code: Int(bad.rawValue),
                message: "libcurl refused an option: " + String(cString: curl_easy_strerror(bad))))
        }
        return nil
    }

    /// Turns a CURLcode into a failure: TLS errors and most others are final, transient ones retryable.
    private func curlFailure(_ code: CURLcode, url: CurlURL) -> AttemptFailure {
        let summary = String(cString: curl_easy_strerror(code))
        let detail = String(cString: errorBuffer)
        var message = detail.isEmpty || detail == summary ? summary : "\(summary): \(detail)"
        message = scrub(message.replacing(url.url, with: RepositoryURL.redacted(url.url)), secrets: secrets)
        let here = RepositoryURL.redacted(url.url)
        let raw = Int(code.rawValue)
        if code == CURLE_ABORTED_BY_CALLBACK {
            return AttemptFailure(error: .cancelled(url: here))
        }
        if Exchange.tlsCodes.contains(code.rawValue) {
            return AttemptFailure(error: .tls(url: here, code: raw, message: message))
        }
        return AttemptFailure(
            error: .network(url: here, code: raw, message: message),
            retryable: Exchange.transientCodes.contains(code.rawValue),
            reason: "curl error \(raw): \(message)")
    }

    /// Transient failures worth another attempt: timeouts (including the low-speed abort), send and
    /// receive errors (connection reset), an empty reply, a short body, HTTP/2 stream errors.
    static let transientCodes: Set<UInt32> = [
        CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
        CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// TLS failures: never retried, reported as `.tls`.
    static let tlsCodes: Set<UInt32> = [
        CURLE_SSL_CONNECT_ERROR, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CERTPROBLEM,
        CURLE_SSL_CIPHER, CURLE_PEER_FAILED_VERIFICATION, CURLE_USE_SSL_FAILED, CURLE_SSL_ENGINE_INITFAILED,
        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
        CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
    ].reduce(into: []) { $0.insert($1.rawValue) }
}
