internal import CCurl
import ChartSyncCore
import struct Crypto.SHA256

/// The requests for one repository of one registry: the registry's base URL, its settings and
/// the authentication dance. `image` names what is asked for in errors (an image reference, an
/// artifact's `registry/repository[:tag]`).
struct RegistrySession {
    let client: RegistryClient
    let repository: String
    let image: String
    let registry: String
    let endpoint: RegistryEndpoint
    let http: CurlHTTPClient
    /// `https://host[:port]` (or `http://` when allowed).
    let base: String
    /// The token scopes: pull access to the repository (and push, for a session that uploads;
    /// and pull access to the repository a blob is mounted from).
    let scopes: [String]
    /// The scopes as one key of the token cache.
    var scope: String { scopes.joined(separator: " ") }

    init(client: RegistryClient, registry: String, repository: String, image: String, push: Bool = false,
         mountFrom: String? = nil) {
        self.client = client
        self.repository = repository
        self.image = image
        self.registry = registry
        endpoint = client.endpoint(for: registry)
        http = client.makeHTTPClient(endpoint.transport)
        base = (endpoint.plainHTTP ? "http://" : "https://") + RegistryClient.apiHost(for: registry)
        scopes = ["repository:" + repository + (push ? ":pull,push" : ":pull")]
            + (mountFrom.map { ["repository:" + $0 + ":pull"] } ?? [])
    }

    /// Whether the session asks for push access.
    var pushes: Bool { scopes[0].hasSuffix(":pull,push") }

    /// The URL of `/v2/<repository>/<path>` on the registry.
    func url(_ path: String) -> String {
        base + "/v2/" + repository + "/" + path
    }

    /// What to send before any challenge: a token cached for the scope, a configured bearer token,
    /// or the basic credentials of a registry known to ask for them; and which of these it is.
    func initialCredentials() -> (credentials: Credentials?, cachedToken: Bool, basic: Bool) {
        if let token = client.cachedToken(registry: registry, scope: scope) {
            return (.bearer(token: token), true, false)
        }
        if case .bearer = endpoint.credentials { return (endpoint.credentials, false, false) }
        if case .basic = endpoint.credentials, client.wantsBasic(registry) { return (endpoint.credentials, false, true) }
        return (nil, false, false)
    }

    /// Sends a request to the registry, answering 401 challenges; the first response that is not
    /// a 401 (or an error saying why authentication failed). The body is kept in memory, at most
    /// `maxBytes` (default `CurlHTTPClient.defaultResponseLimit`); `through` replaces the
    /// session's HTTP client (e.g. one that follows no redirects).
    func send(_ method: HTTPMethod, _ url: String, accept: [String] = [], maxBytes: Int64? = nil,
              headers extra: [HTTPHeader] = [], body: RequestBody? = nil,
              through other: CurlHTTPClient? = nil) throws(RegistryError) -> HTTPResponse {
        var (credentials, usedCachedToken, sentBasic) = initialCredentials()
        var fetchedToken = false
        let headers = (accept.isEmpty ? [] : [HTTPHeader("Accept", accept.joined(separator: ", "))]) + extra
        while true {
            let response = try transfer(TransferRequest(url: url, credentials: credentials, maxBytes: maxBytes,
                                                        method: method, headers: headers, body: body), through: other)
            guard response.status == 401 else { return response }
            let challenges = AuthChallenge.parse(response.headerValues("WWW-Authenticate"))
            let configuredBearer: Bool
            if case .bearer = endpoint.credentials { configuredBearer = true } else { configuredBearer = false }
            if let bearer = challenges.first(where: { $0.scheme == "bearer" }), !configuredBearer {
                if fetchedToken {
                    let who = basicUsername.map { "user \"\($0)\"" } ?? "anonymous access"
                    let access = pushes ? "push to" : "pull"
                    throw .authenticationFailed(registry: registry, reason: "the registry refused the token its token service issued for \(who) to \(access) \(repository) (no \(pushes ? "push" : "pull") access, or no such repository)")
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
        for scope in scopes { query.append("scope=" + formEncode(scope)) }
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
    func manifestDigest(url: String, wanted: String?) throws(RegistryError) -> String {
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
        if let wanted, wanted != actual {
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
    func repositoryExists() -> Bool {
        let url = self.url("tags/list?n=1")
        guard let response = try? send(.get, url) else { return true }
        guard response.status == 404 else { return true }
        return !RegistrySession.errorCodes(response.body).contains("NAME_UNKNOWN")
    }

    /// One request through libcurl (the session's client unless `other` is given); transport
    /// failures become registry errors.
    private func transfer(_ request: TransferRequest, through other: CurlHTTPClient? = nil)
        throws(RegistryError) -> HTTPResponse {
        do {
            return try (other ?? http).send(request)
        } catch {
            throw registryError(error)
        }
    }

    /// The registry error for a transport failure: cancelled, unreachable, or wrapped.
    func registryError(_ error: TransportError) -> RegistryError {
        switch error {
        case .cancelled:
            return .cancelled(image: image)
        case let .network(url, code, message) where RegistrySession.unreachableCodes.contains(code):
            return .unreachable(registry: registry, url: url, message: "\(message) (curl error \(code))")
        default:
            return .transport(registry: registry, error)
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
