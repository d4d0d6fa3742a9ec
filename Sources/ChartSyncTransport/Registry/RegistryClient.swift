internal import CCurl
import ChartSyncCore
import struct Crypto.SHA256
import Synchronization

/// The role: turn a container image reference into the digest of its manifest.
public protocol ImageResolver: Sendable {
    /// The manifest digest, `sha256:<64 hex>`, that `reference` names in its registry now.
    func resolve(_ reference: ImageReference) throws(RegistryError) -> String
}

/// How to reach one registry: the scheme, TLS and transport options, and credentials.
public struct RegistryEndpoint: Sendable, Equatable {
    /// Talk plain HTTP to this registry instead of HTTPS. Only for registries explicitly
    /// configured so (a registry on 127.0.0.1 in tests, a lab mirror); never a fallback.
    public var plainHTTP: Bool
    /// Basic credentials, sent when the registry asks for basic auth and to its token service
    /// when it asks for a bearer token; or a bearer token, sent to the registry as it is (a token
    /// the registry itself accepts; it is not exchanged at a token service).
    public var credentials: Credentials?
    /// TLS (CA file, client certificate, insecureSkipTLSVerify), timeouts, redirects and retries,
    /// used for the registry and for its token service.
    public var transport: TransportOptions

    /// Creates settings; the default is HTTPS with the system CAs, anonymous.
    public init(plainHTTP: Bool = false, credentials: Credentials? = nil, transport: TransportOptions = .init()) {
        self.plainHTTP = plainHTTP
        self.credentials = credentials
        self.transport = transport
    }
}

/// Resolves image tags to manifest digests over the OCI distribution API with libcurl.
///
/// For each image: `HEAD /v2/<repository>/manifests/<tag>` accepting OCI image indexes, Docker
/// manifest lists, Docker v2 and OCI image manifests; the digest is the `Docker-Content-Digest`
/// header, or, when a registry leaves it out, the SHA-256 of the exact bytes of a GET of the same
/// URL. A 401 is answered as the challenge asks: `Bearer` fetches a token for
/// `repository:<repository>:pull` from the realm (with the endpoint's basic credentials, or
/// anonymously) and tries again; `Basic` sends the endpoint's basic credentials. Tokens are kept
/// per registry and scope for the client's life, and a registry that asked for basic auth gets
/// the credentials up front afterwards. A 404 is told apart as an unknown repository or an
/// unknown tag by one look at the repository's tag list.
///
/// A reference holding a digest is checked to exist (HEAD by digest) and that digest returned;
/// its tag, if any, is not consulted. A reference with neither tag nor digest means `latest`.
/// `docker.io` is reached at `registry-1.docker.io`. Thread-safe; nothing is printed: retries,
/// redirects and insecure TLS are reported through `onEvent`.
public final class RegistryClient: ImageResolver {
    /// The media types asked for, in the `Accept` header of manifest requests.
    public static let manifestMediaTypes = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]

    /// Settings per registry name as written in image references (`docker.io`, `127.0.0.1:5000`),
    /// keys lowercased.
    public let endpoints: [String: RegistryEndpoint]
    /// The settings of registries not in `endpoints`.
    public let defaultEndpoint: RegistryEndpoint
    /// When set, requests stop and `resolve` throws `cancelled`.
    public let cancellation: Cancellation
    private let onEvent: (@Sendable (TransportEvent) -> Void)?
    private let cache = Mutex(AuthCache())

    /// What authentication learned during the client's life.
    private struct AuthCache {
        /// Bearer tokens by "registry\nscope".
        var tokens: [String: String] = [:]
        /// Registries that asked for basic auth.
        var basicRegistries: Set<String> = []
    }

    /// Creates a client with settings per registry; `onEvent` hears about retries, redirects and
    /// insecure TLS.
    public init(
        endpoints: [String: RegistryEndpoint] = [:],
        defaultEndpoint: RegistryEndpoint = RegistryEndpoint(),
        onEvent: (@Sendable (TransportEvent) -> Void)? = nil,
        cancellation: Cancellation = Cancellation()
    ) {
        var lowered: [String: RegistryEndpoint] = [:]
        for (name, endpoint) in endpoints { lowered[name.lowercased()] = endpoint }
        self.endpoints = lowered
        self.defaultEndpoint = defaultEndpoint
        self.onEvent = onEvent
        self.cancellation = cancellation
    }

    /// The settings used for `registry` (a name as in image references).
    public func endpoint(for registry: String) -> RegistryEndpoint {
        endpoints[registry.lowercased()] ?? defaultEndpoint
    }

    /// The host (and port) serving the API of `registry`: `registry-1.docker.io` for `docker.io`,
    /// the name itself otherwise.
    public static func apiHost(for registry: String) -> String {
        registry.lowercased() == "docker.io" ? "registry-1.docker.io" : registry
    }

    /// The manifest digest of `reference`; see the type's documentation.
    public func resolve(_ reference: ImageReference) throws(RegistryError) -> String {
        var shown = reference
        if reference.tag == nil && reference.digest == nil { shown.tag = "latest" }
        let image = shown.description
        if let reason = RegistryClient.problem(with: reference) {
            throw .invalidReference(image: image, reason: reason)
        }
        let session = RegistrySession(client: self, reference: reference, image: image)
        let target = reference.digest ?? reference.tag ?? "latest"
        let url = session.base + "/v2/" + reference.repository + "/manifests/" + target
        let head = try session.send(.head, url, accept: RegistryClient.manifestMediaTypes)
        guard (200..<300).contains(head.status) else {
            guard head.status == 404 || head.status == 403 else {
                // An odd status: a GET brings the error body that a HEAD answer cannot carry.
                let get = try session.send(.get, url, accept: RegistryClient.manifestMediaTypes)
                if (200..<300).contains(get.status) { return try session.manifestDigest(url: url) }
                throw session.failure(for: get, url: url)
            }
            throw session.failure(for: head, url: url)
        }
        if let header = head.header("Docker-Content-Digest") {
            if RegistryClient.isSHA256Digest(header) {
                if let wanted = reference.digest, wanted != header {
                    throw .digestMismatch(image: image, expected: wanted, actual: header)
                }
                return header
            }
            // Another algorithm is no answer to "sha256 of the manifest": hash the bytes below.
            guard RegistryClient.isDigest(header) else {
                throw .malformedResponse(registry: reference.registry, url: head.url,
                                         reason: "Docker-Content-Digest \"\(header.prefix(100))\" is not a digest")
            }
        }
        return try session.manifestDigest(url: url)
    }

    // MARK: - Shared authentication state

    fileprivate func cachedToken(registry: String, scope: String) -> String? {
        cache.withLock { $0.tokens[registry + "\n" + scope] }
    }

    fileprivate func storeToken(_ token: String?, registry: String, scope: String) {
        cache.withLock { $0.tokens[registry + "\n" + scope] = token }
    }

    fileprivate func wantsBasic(_ registry: String) -> Bool {
        cache.withLock { $0.basicRegistries.contains(registry) }
    }

    fileprivate func rememberBasic(_ registry: String) {
        cache.withLock { _ = $0.basicRegistries.insert(registry) }
    }

    fileprivate func makeHTTPClient(_ endpoint: RegistryEndpoint) -> CurlHTTPClient {
        CurlHTTPClient(options: endpoint.transport, onEvent: onEvent, cancellation: cancellation)
    }

    // MARK: - Grammar checks (references made with the memberwise initializer are not checked)

    /// Why `reference` cannot be asked for, or nil when it can.
    static func problem(with reference: ImageReference) -> String? {
        let registry = reference.registry
        guard !registry.isEmpty, registry.utf8.allSatisfy({ isAlphanumeric($0) || Array(".-:[]".utf8).contains($0) }) else {
            return "the registry \"\(registry)\" is not a host[:port]"
        }
        let repository = reference.repository
        let components = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard !repository.isEmpty, components.allSatisfy({ component in
            guard let first = component.utf8.first, let last = component.utf8.last,
                  isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
            return component.utf8.allSatisfy { isLowerAlphanumeric($0) || Array("._-".utf8).contains($0) }
        }) else {
            return "the repository \"\(repository)\" is not lowercase letters and digits separated by / . _ -"
        }
        if let tag = reference.tag {
            guard let first = tag.utf8.first, tag.utf8.count <= 128, first != UInt8(ascii: "."),
                  first != UInt8(ascii: "-"),
                  tag.utf8.allSatisfy({ isAlphanumeric($0) || Array("_.-".utf8).contains($0) }) else {
                return "the tag \"\(tag)\" is not valid"
            }
        }
        if let digest = reference.digest, !isSHA256Digest(digest) {
            return "only sha256 manifest digests are supported, not \"\(digest)\""
        }
        return nil
    }

    /// `sha256:` and 64 lowercase hex digits.
    static func isSHA256Digest(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.utf8.count == 71
            && text.utf8.dropFirst(7).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// `algorithm:hex` as the distribution API's digest grammar has it (loosely).
    static func isDigest(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let algorithm = text[..<colon].utf8, encoded = text[text.index(after: colon)...].utf8
        return !algorithm.isEmpty && encoded.count >= 32
            && algorithm.allSatisfy { isLowerAlphanumeric($0) || Array("+._-".utf8).contains($0) }
            && encoded.allSatisfy { isAlphanumeric($0) || Array("=_-".utf8).contains($0) }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7a).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (0x41...0x5a).contains(byte)
    }
}

/// One resolution: the registry's base URL, its settings and the requests for one repository,
/// with the authentication dance.
private struct RegistrySession {
    let client: RegistryClient
    let reference: ImageReference
    let image: String
    let registry: String
    let endpoint: RegistryEndpoint
    let http: CurlHTTPClient
    /// `https://host[:port]` (or `http://` when allowed).
    let base: String
    /// The token scope: pull access to the repository.
    let scope: String

    init(client: RegistryClient, reference: ImageReference, image: String) {
        self.client = client
        self.reference = reference
        self.image = image
        registry = reference.registry
        endpoint = client.endpoint(for: reference.registry)
        http = client.makeHTTPClient(endpoint)
        base = (endpoint.plainHTTP ? "http://" : "https://") + RegistryClient.apiHost(for: reference.registry)
        scope = "repository:" + reference.repository + ":pull"
    }

    /// Sends a request to the registry, answering 401 challenges; the first response that is not
    /// a 401 (or an error saying why authentication failed).
    func send(_ method: HTTPMethod, _ url: String, accept: [String] = []) throws(RegistryError) -> HTTPResponse {
        var credentials: Credentials?
        var usedCachedToken = false
        var fetchedToken = false
        var sentBasic = false
        if let token = client.cachedToken(registry: registry, scope: scope) {
            credentials = .bearer(token: token)
            usedCachedToken = true
        } else if case .bearer = endpoint.credentials {
            credentials = endpoint.credentials
        } else if case .basic = endpoint.credentials, client.wantsBasic(registry) {
            credentials = endpoint.credentials
            sentBasic = true
        }
        let headers = accept.isEmpty ? [] : [HTTPHeader("Accept", accept.joined(separator: ", "))]
        while true {
            let response = try transfer(TransferRequest(url: url, credentials: credentials, method: method,
                                                        headers: headers))
            guard response.status == 401 else { return response }
            let challenges = AuthChallenge.parse(response.headerValues("WWW-Authenticate"))
            let configuredBearer: Bool
            if case .bearer = endpoint.credentials { configuredBearer = true } else { configuredBearer = false }
            if let bearer = challenges.first(where: { $0.scheme == "bearer" }), !configuredBearer {
                if fetchedToken {
                    let who = basicUsername.map { "user \"\($0)\"" } ?? "anonymous access"
                    throw .authenticationFailed(registry: registry, reason: "the registry refused the token its token service issued for \(who) to pull \(reference.repository) (no pull access, or no such repository)")
                }
                if usedCachedToken { client.storeToken(nil, registry: registry, scope: scope) }
                let token = try fetchToken(bearer, url: response.url)
                client.storeToken(token, registry: registry, scope: scope)
                credentials = .bearer(token: token)
                fetchedToken = true
                continue
            }
            if challenges.contains(where: { $0.scheme == "basic" }) {
                guard case let .basic(username, _)? = endpoint.credentials else {
                    if configuredBearer {
                        throw .authenticationFailed(registry: registry, reason: "the registry asks for basic authentication, but a bearer token is configured")
                    }
                    throw .credentialsRequired(registry: registry)
                }
                if sentBasic {
                    throw .authenticationFailed(registry: registry, reason: "the registry refused the password of user \"\(username)\"")
                }
                client.rememberBasic(registry)
                credentials = endpoint.credentials
                sentBasic = true
                continue
            }
            if configuredBearer {
                throw .authenticationFailed(registry: registry, reason: "the registry refused the configured bearer token")
            }
            throw .malformedResponse(registry: registry, url: response.url,
                                     reason: "HTTP 401 without a Basic or Bearer challenge in WWW-Authenticate")
        }
    }

    /// The user name of the endpoint's basic credentials, if any.
    private var basicUsername: String? {
        if case let .basic(username, _)? = endpoint.credentials { return username }
        return nil
    }

    /// Asks the challenge's realm for a token for `scope`.
    private func fetchToken(_ challenge: AuthChallenge, url: String) throws(RegistryError) -> String {
        guard let realm = challenge.parameters["realm"], !realm.isEmpty else {
            throw .malformedResponse(registry: registry, url: url, reason: "a Bearer challenge without a realm")
        }
        let realmURL: CurlURL
        do {
            realmURL = try CurlURL.parse(realm)
        } catch {
            throw .malformedResponse(registry: registry, url: url,
                                     reason: "the token realm \"\(RepositoryURL.redacted(realm))\" is not a URL")
        }
        guard realmURL.scheme == "https" || realmURL.scheme == "http" else {
            throw .malformedResponse(registry: registry, url: url,
                                     reason: "the token realm \(RepositoryURL.redacted(realm)) is not an http(s) URL")
        }
        if realmURL.scheme == "http" && !plainHTTPAllowed(for: realmURL) {
            throw .insecureTokenRealm(registry: registry, realm: RepositoryURL.redacted(realmURL.url))
        }
        var query: [String] = []
        if let service = challenge.parameters["service"] { query.append("service=" + formEncode(service)) }
        query.append("scope=" + formEncode(scope))
        let tokenURL = realmURL.url + (realmURL.url.contains("?") ? "&" : "?") + query.joined(separator: "&")
        var credentials: Credentials?
        if case .basic? = endpoint.credentials { credentials = endpoint.credentials }
        let response = try transfer(TransferRequest(
            url: tokenURL, credentials: credentials, maxBytes: 1 << 20, headers: [HTTPHeader("Accept", "application/json")]))
        let realmShown = RepositoryURL.redacted(realmURL.url)
        switch response.status {
        case 200..<300:
            break
        case 401, 403:
            if let username = basicUsername {
                throw .authenticationFailed(registry: registry, reason: "the token service \(realmShown) refused the credentials of user \"\(username)\" (HTTP \(response.status))")
            }
            throw .authenticationFailed(registry: registry, reason: "the token service \(realmShown) refused anonymous access (HTTP \(response.status)); configure credentials for this registry")
        default:
            throw .unexpectedStatus(image: image, url: response.url, status: response.status,
                                    message: RegistrySession.errorMessage(response.body))
        }
        let json = JSONValue.parse(response.body)
        var token = json?["token"]?.string ?? ""
        if token.isEmpty { token = json?["access_token"]?.string ?? "" }
        guard !token.isEmpty else {
            let what = json == nil ? "is not JSON" : "holds no \"token\" or \"access_token\" string"
            throw .malformedResponse(registry: registry, url: response.url,
                                     reason: "malformed token response: the answer of the token service \(what)")
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw .malformedResponse(registry: registry, url: response.url,
                                     reason: "malformed token response: the token holds characters a header cannot carry")
        }
        return token
    }

    /// Whether a plain-HTTP token realm may be used: the registry itself is plain HTTP and the
    /// realm is on the same host, or the realm's host[:port] is a registry allowed plain HTTP.
    private func plainHTTPAllowed(for realm: CurlURL) -> Bool {
        let registryHost = (try? CurlURL.parse(base))?.host
        if endpoint.plainHTTP && realm.host == registryHost { return true }
        let authority = realm.port == "80" ? realm.host : realm.host + ":" + realm.port
        return client.endpoints[authority] != nil && client.endpoint(for: authority).plainHTTP
    }

    /// GETs the manifest and returns the SHA-256 of its exact bytes, after checking that they are
    /// a schema 2 manifest or index and agree with any digest the registry or reference names.
    func manifestDigest(url: String) throws(RegistryError) -> String {
        let response = try send(.get, url, accept: RegistryClient.manifestMediaTypes)
        guard (200..<300).contains(response.status) else { throw failure(for: response, url: url) }
        var hasher = SHA256()
        response.body.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let actual = Digest(bytes: hasher.finalize()).prefixed
        let json = JSONValue.parse(response.body)
        guard let version = json?["schemaVersion"]?.number, version == 2 else {
            let type = response.header("Content-Type").map { " (Content-Type \($0.prefix(100)))" } ?? ""
            throw .malformedResponse(registry: registry, url: response.url,
                                     reason: "the answer is not a schema 2 image manifest or index\(type)")
        }
        if let header = response.header("Docker-Content-Digest"), RegistryClient.isSHA256Digest(header), header != actual {
            throw .digestMismatch(image: image, expected: header, actual: actual)
        }
        if let wanted = reference.digest, wanted != actual {
            throw .digestMismatch(image: image, expected: wanted, actual: actual)
        }
        return actual
    }

    /// The error for a manifest request that did not succeed (after authentication).
    func failure(for response: HTTPResponse, url: String) -> RegistryError {
        switch response.status {
        case 404:
            return repositoryExists() ? .manifestUnknown(image: image)
                : .repositoryUnknown(image: image, registry: registry)
        case 403:
            return .accessDenied(image: image, registry: registry)
        default:
            return .unexpectedStatus(image: image, url: response.url, status: response.status,
                                     message: RegistrySession.errorMessage(response.body))
        }
    }

    /// False only when the registry says the repository is unknown (`NAME_UNKNOWN` from its tag
    /// list); any other answer or failure counts as "exists".
    private func repositoryExists() -> Bool {
        let url = base + "/v2/" + reference.repository + "/tags/list?n=1"
        guard let response = try? send(.get, url) else { return true }
        guard response.status == 404 else { return true }
        return !RegistrySession.errorCodes(response.body).contains("NAME_UNKNOWN")
    }

    /// One request through libcurl; transport failures become registry errors.
    private func transfer(_ request: TransferRequest) throws(RegistryError) -> HTTPResponse {
        do {
            return try http.send(request)
        } catch {
            switch error {
            case .cancelled:
                throw .cancelled(image: image)
            case let .network(url, code, message) where RegistrySession.unreachableCodes.contains(code):
                throw .unreachable(registry: registry, url: url, message: "\(message) (curl error \(code))")
            default:
                throw .transport(registry: registry, error)
            }
        }
    }

    /// CURLcodes meaning that no connection could be had: proxy or host not resolved, connection
    /// refused, timeout.
    static let unreachableCodes: Set<Int> = [
        Int(CURLE_COULDNT_RESOLVE_PROXY.rawValue), Int(CURLE_COULDNT_RESOLVE_HOST.rawValue),
        Int(CURLE_COULDNT_CONNECT.rawValue), Int(CURLE_OPERATION_TIMEDOUT.rawValue),
    ]

    /// The `code`s of a distribution API error body (`{"errors":[{"code":...}]}`).
    static func errorCodes(_ body: [UInt8]) -> [String] {
        (JSONValue.parse(body)?["errors"]?.array ?? []).compactMap { $0["code"]?.string }
    }

    /// "CODE: message" of the first error of a distribution API error body, if any (at most 200 characters).
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let first = JSONValue.parse(body)?["errors"]?.array?.first else { return nil }
        let text = [first["code"]?.string, first["message"]?.string].compactMap { $0 }.joined(separator: ": ")
        return text.isEmpty ? nil : String(text.prefix(200))
    }

    /// `text` percent-encoded for a query value (unreserved characters, `:` and `/` kept).
    private func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                || Array("-._~:/".utf8).contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xf)])
            }
        }
        return out
    }
}
