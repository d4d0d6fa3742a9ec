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

/// Resolves image tags to manifest digests over the OCI distribution API with libcurl; also lists
/// a repository's tags and fetches proven manifests and blobs (`tags`, `manifest`, `blob`, for
/// OCI artifacts such as Helm charts).
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
/// `docker.io` is reached at `registry-1.docker.io`. Credentials (configured or fetched) never
/// follow a redirect to another origin, whatever the endpoint's `allowCredentialsOnRedirect`
/// says. Thread-safe; nothing is printed: retries, redirects and insecure TLS are reported
/// through `onEvent`.
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
    /// The HTTP clients made so far, one per transport setting: their idle connections serve the
    /// next request to the same registry (manifests and blobs one after the other).
    private let httpClients = Mutex<[CurlHTTPClient]>([])

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
        let session = RegistrySession(client: self, registry: reference.registry, repository: reference.repository,
                                      image: image)
        let target = reference.digest ?? reference.tag ?? "latest"
        let url = session.url("manifests/" + target)
        let head = try session.send(.head, url, accept: RegistryClient.manifestMediaTypes)
        guard (200..<300).contains(head.status) else {
            guard head.status == 404 || head.status == 403 else {
                // An odd status: a GET brings the error body that a HEAD answer cannot carry.
                let get = try session.send(.get, url, accept: RegistryClient.manifestMediaTypes)
                if (200..<300).contains(get.status) { return try session.manifestDigest(url: url, wanted: reference.digest) }
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
        return try session.manifestDigest(url: url, wanted: reference.digest)
    }

    // MARK: - Shared authentication state

    func cachedToken(registry: String, scope: String) -> String? {
        cache.withLock { $0.tokens[registry + "\n" + scope] }
    }

    func storeToken(_ token: String?, registry: String, scope: String) {
        cache.withLock { $0.tokens[registry + "\n" + scope] = token }
    }

    func wantsBasic(_ registry: String) -> Bool {
        cache.withLock { $0.basicRegistries.contains(registry) }
    }

    func rememberBasic(_ registry: String) {
        cache.withLock { _ = $0.basicRegistries.insert(registry) }
    }

    /// A libcurl client with `transport`, except that credentials never follow a redirect to
    /// another origin (a registry token or password is for the registry, not for the object
    /// storage its blobs redirect to), whatever `allowCredentialsOnRedirect` says. One client per
    /// distinct setting, kept for this client's life, so that its connections are reused.
    func makeHTTPClient(_ transport: TransportOptions) -> CurlHTTPClient {
        var transport = transport
        transport.allowCredentialsOnRedirect = false
        return httpClients.withLock { clients in
            if let known = clients.first(where: { $0.options == transport }) { return known }
            let client = CurlHTTPClient(options: transport, onEvent: onEvent, cancellation: cancellation)
            clients.append(client)
            return client
        }
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

    /// Why `repository` is not a repository name of the distribution API (`a/b-c/d.e`), or nil
    /// ("is not lowercase letters and digits …").
    public static func repositoryProblem(_ repository: String) -> String? {
        problem(with: ImageReference(registry: "registry.invalid", repository: repository, tag: nil, digest: nil))
            .map { $0.replacingOccurrences(of: "the repository \"\(repository)\" ", with: "") }
    }

    /// `sha256:` and 64 lowercase hex digits.
    public static func isSHA256Digest(_ text: String) -> Bool {
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
