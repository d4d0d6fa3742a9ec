import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// A manifest as the registry served it, proven: its exact bytes hash to `digest`.
public struct FetchedManifest: Sendable, Equatable {
    /// The exact bytes received (at most `RegistryClient.manifestSizeLimit`).
    public let bytes: [UInt8]
    /// The media type: the `Content-Type` when it is a manifest or index type, else the
    /// document's `mediaType` (else inferred; see `OCIManifest.mediaType`).
    public let mediaType: String
    /// `sha256:<hex>` of `bytes`: the digest it was fetched by, or that a tag named.
    public let digest: String
    /// The decoded document.
    public let manifest: OCIManifest
    /// The URL it finally came from (redacted).
    public let url: String

    /// Creates a fetched manifest (mostly for fakes).
    public init(bytes: [UInt8], mediaType: String, digest: String, manifest: OCIManifest, url: String) {
        self.bytes = bytes
        self.mediaType = mediaType
        self.digest = digest
        self.manifest = manifest
        self.url = url
    }
}

extension RegistryClient {
    /// The largest manifest read: 4 MiB (what registries accept on push).
    public static let manifestSizeLimit: Int64 = 4 << 20
    /// The most pages of a tag list followed before the answer is taken for a loop.
    public static let tagPageLimit = 10_000

    /// Every tag of `repository` on `registry`, in the order the registry lists them:
    /// `GET /v2/<repository>/tags/list` (with `?n=<pageSize>` when given), following
    /// `Link: <...>; rel="next"` (relative, or absolute on the registry's own origin) until there
    /// is none. Authentication as for `resolve`. A 404 is `repositoryUnknown` naming
    /// `registry/repository`; a next link to another origin, a repeated page or a body that is
    /// no tag list is `malformedResponse`.
    public func tags(repository: String, registry: String, pageSize: Int? = nil) throws(RegistryError) -> [String] {
        let subject = registry + "/" + repository
        if let reason = RegistryClient.problem(with: ImageReference(registry: registry, repository: repository,
                                                                    tag: nil, digest: nil)) {
            throw .invalidReference(image: subject, reason: reason)
        }
        if let pageSize, pageSize < 1 {
            throw .invalidReference(image: subject, reason: "the page size \(pageSize) is not positive")
        }
        let session = RegistrySession(client: self, registry: registry, repository: repository, image: subject)
        var url = session.url("tags/list") + (pageSize.map { "?n=\($0)" } ?? "")
        var seen: Set<String> = []
        var tags: [String] = []
        while true {
            guard seen.insert(url).inserted, seen.count <= RegistryClient.tagPageLimit else {
                throw .malformedResponse(registry: registry, url: RepositoryURL.redacted(url),
                                         reason: "the tag list's next-page links go round in a loop (or past \(RegistryClient.tagPageLimit) pages)")
            }
            let response = try session.send(.get, url, accept: ["application/json"])
            switch response.status {
            case 200..<300:
                break
            case 404:
                throw .repositoryUnknown(image: subject, registry: registry)
            case 403:
                throw .accessDenied(image: subject, registry: registry)
            default:
                throw .unexpectedStatus(image: subject, url: response.url, status: response.status,
                                        message: RegistrySession.errorMessage(response.body))
            }
            tags += try RegistryClient.tagPage(response, registry: registry)
            guard let next = RegistryClient.nextLink(response.headerValues("Link")) else { return tags }
            url = try session.resolveLink(next, from: url, responseURL: response.url)
        }
    }

    /// The manifest `reference` names (by digest when it has one, else by tag, else `latest`),
    /// proven and decoded; see `manifest(registry:repository:reference:)`.
    public func manifest(_ reference: ImageReference) throws(RegistryError) -> FetchedManifest {
        try manifest(registry: reference.registry, repository: reference.repository,
                     reference: reference.digest ?? reference.tag ?? "latest")
    }

    /// Fetches the manifest of `repository` on `registry` by `reference`, a tag or a
    /// `sha256:` digest, accepting OCI and Docker v2 manifests and indexes (at most
    /// `manifestSizeLimit` bytes). The bytes are proven: fetched by digest they must hash to it;
    /// fetched by tag their SHA-256 is the digest, and it must equal the registry's
    /// `Docker-Content-Digest` when one is sent; else `manifestMismatch` naming the URL and both
    /// digests. The document is decoded strictly (`OCIManifest.parse`); a malformed one is
    /// `malformedResponse`. A 404 is `manifestUnknown` (or `repositoryUnknown` when the registry
    /// has no such repository).
    public func manifest(registry: String, repository: String, reference: String) throws(RegistryError) -> FetchedManifest {
        let byDigest = reference.contains(":")
        let subject = registry + "/" + repository + (byDigest ? "@" : ":") + reference
        if let reason = RegistryClient.problem(with: ImageReference(
            registry: registry, repository: repository, tag: byDigest ? nil : reference,
            digest: byDigest ? reference : nil)) {
            throw .invalidReference(image: subject, reason: reason)
        }
        let session = RegistrySession(client: self, registry: registry, repository: repository, image: subject)
        let url = session.url("manifests/" + reference)
        let response = try session.send(.get, url, accept: RegistryClient.manifestMediaTypes,
                                        maxBytes: RegistryClient.manifestSizeLimit)
        guard (200..<300).contains(response.status) else { throw session.failure(for: response, url: url) }
        var hasher = SHA256()
        response.body.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let actual = Digest(bytes: hasher.finalize()).prefixed
        if byDigest, actual != reference {
            throw .manifestMismatch(image: subject, url: response.url, expected: reference, actual: actual)
        }
        if let header = response.header("Docker-Content-Digest") {
            guard RegistryClient.isDigest(header) else {
                throw .malformedResponse(registry: registry, url: response.url,
                                         reason: "Docker-Content-Digest \"\(header.prefix(100))\" is not a digest")
            }
            // A digest with another algorithm cannot be checked here; the bytes were hashed above.
            if RegistryClient.isSHA256Digest(header), header != actual {
                throw .manifestMismatch(image: subject, url: response.url, expected: header, actual: actual)
            }
        }
        let contentType = response.header("Content-Type").map(RegistryClient.bareMediaType)
        let decoded: OCIManifest
        do {
            decoded = try OCIManifest.parse(response.body, mediaType: contentType)
        } catch {
            throw .malformedResponse(registry: registry, url: response.url, reason: error.description)
        }
        let known = OCIManifest.manifestTypes.union(OCIManifest.indexTypes)
        let mediaType = contentType.flatMap { known.contains($0) ? $0 : nil } ?? decoded.mediaType
        return FetchedManifest(bytes: response.body, mediaType: mediaType, digest: actual, manifest: decoded,
                               url: response.url)
    }

    /// Streams the blob `digest` (`sha256:` only) of `repository` on `registry` to the file at
    /// `path`, proving it: at most `size` bytes are taken, and the file must have exactly `size`
    /// bytes hashing to `digest` (else `blobSizeMismatch` or `blobMismatch` naming the blob and
    /// both values). The bytes go to a temporary file beside `path` that is renamed to `path`
    /// only once proven; on any failure nothing is left and a file already at `path` is untouched.
    /// A redirect (registries send blobs to object storage with 307) is followed without the
    /// registry's credentials when it leads to another origin, whatever `allowCredentialsOnRedirect`
    /// says. A 404 is `blobUnknown`. The file is flushed before the rename; with `syncDirectory`
    /// false the rename is not, and the caller syncs the directory itself (once for many blobs,
    /// before anything names them).
    public func blob(repository: String, registry: String, digest: String, size: Int64, to path: String,
                     progress: TransferProgress? = nil, syncDirectory: Bool = true) throws(RegistryError) -> TransferResult {
        let subject = registry + "/" + repository + "@" + digest
        if let reason = RegistryClient.problem(with: ImageReference(registry: registry, repository: repository,
                                                                    tag: nil, digest: nil)) {
            throw .invalidReference(image: subject, reason: reason)
        }
        guard RegistryClient.isSHA256Digest(digest) else {
            throw .invalidReference(image: subject, reason: "only sha256 blob digests can be proven, not \"\(digest.prefix(100))\"")
        }
        guard size >= 0 else { throw .invalidReference(image: subject, reason: "the size \(size) is negative") }
        let session = RegistrySession(client: self, registry: registry, repository: repository, image: subject)
        let url = session.url("blobs/" + digest)
        let temporary = RegistryClient.temporaryPath(for: path)
        var kept = false
        defer { if !kept { unlink(temporary) } }

        func fetch() throws(TransportError) -> TransferResult {
            try session.http.fetch(TransferRequest(url: url, credentials: session.initialCredentials().credentials,
                                                   maxBytes: size, progress: progress), to: temporary)
        }
        func failure(_ error: TransportError) -> RegistryError {
            switch error {
            case let .httpStatus(at, code) where [401, 403, 404].contains(code) && !session.isOwnOrigin(at):
                // Object storage a redirect led to (an expired presigned URL, say) is not the registry.
                return .transport(registry: registry, error)
            case let .httpStatus(at, 401):
                return .authenticationFailed(registry: registry, reason: "the registry refused the credentials for blob \(digest) of \(repository) (HTTP 401 from \(at))")
            case .httpStatus(_, 404):
                return .blobUnknown(blob: subject, registry: registry)
            case .httpStatus(_, 403):
                return .accessDenied(image: subject, registry: registry)
            case let .sizeLimitExceeded(at, _):
                return .blobSizeMismatch(blob: subject, url: at, expected: size, actual: nil)
            default:
                return session.registryError(error)
            }
        }
        var result: TransferResult
        do {
            result = try fetch()
        } catch {
            guard case let .httpStatus(at, 401) = error, session.isOwnOrigin(at) else { throw failure(error) }
            // Learn what the registry wants (a HEAD that follows no redirect), then try again.
            try session.authorize(url)
            do { result = try fetch() } catch { throw failure(error) }
        }
        guard result.bytes == size else {
            throw .blobSizeMismatch(blob: subject, url: result.url, expected: size, actual: result.bytes)
        }
        guard result.sha256.prefixed == digest else {
            throw .blobMismatch(blob: subject, url: result.url, expected: digest, actual: result.sha256.prefixed)
        }
        do {
            try FileSystem.move(temporary, to: path)
        } catch {
            throw .transport(registry: registry, .io(path: path, message: error.description))
        }
        kept = true
        if syncDirectory { FileSystem.syncDirectory(FileSystem.parent(of: path)) }
        return result
    }

    /// Streams the blob `descriptor` names; see `blob(repository:registry:digest:size:to:progress:)`.
    public func blob(_ descriptor: OCIDescriptor, repository: String, registry: String, to path: String,
                     progress: TransferProgress? = nil) throws(RegistryError) -> TransferResult {
        try blob(repository: repository, registry: registry, digest: descriptor.digest, size: descriptor.size,
                 to: path, progress: progress)
    }

    // MARK: - Helpers

    /// A sibling of `path` for the bytes in flight: `<path>.partial-<pid>-<random>`.
    static func temporaryPath(for path: String) -> String {
        path + ".partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// A media type without parameters and surrounding spaces, lowercased.
    static func bareMediaType(_ contentType: String) -> String {
        let bare = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(bare.filter { $0 != " " && $0 != "\t" }).lowercased()
    }

    /// The tags of one page of a tag list (`{"name": ..., "tags": [...] or null}`).
    static func tagPage(_ response: HTTPResponse, registry: String) throws(RegistryError) -> [String] {
        guard let json = JSONValue.parse(response.body), case .object = json else {
            throw .malformedResponse(registry: registry, url: response.url, reason: "the tag list is not a JSON object")
        }
        guard let list = json["tags"], list != .null else { return [] }
        guard let elements = list.array else {
            throw .malformedResponse(registry: registry, url: response.url, reason: "the tag list's \"tags\" is not an array")
        }
        var tags: [String] = []
        for element in elements {
            guard let tag = element.string else {
                throw .malformedResponse(registry: registry, url: response.url, reason: "the tag list holds a value that is not a string")
            }
            tags.append(tag)
        }
        return tags
    }

    /// The target of the first `rel="next"` link in `Link` header values (RFC 8288), if any.
    static func nextLink(_ values: [String]) -> String? {
        for value in values {
            var rest = Substring(value)
            while let open = rest.firstIndex(of: "<") {
                guard let close = rest[open...].firstIndex(of: ">") else { break }
                let target = String(rest[rest.index(after: open)..<close])
                rest = rest[rest.index(after: close)...]
                // The parameters run to the next link ("," outside quotes).
                var parameters = ""
                var quoted = false
                var end = rest.endIndex
                for index in rest.indices {
                    let character = rest[index]
                    if character == "\"" { quoted.toggle() }
                    if character == "," && !quoted { end = index; break }
                    parameters.append(character)
                }
                rest = rest[end...]
                for parameter in parameters.split(separator: ";") {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "rel" else { continue }
                    let relations = pair[1].trimmingSpaces.filter { $0 != "\"" }.lowercased().split(separator: " ")
                    if relations.contains("next") { return target }
                }
            }
        }
        return nil
    }
}

extension RegistrySession {
    /// Whether `url` (maybe redacted) is on the registry's own origin.
    func isOwnOrigin(_ url: String) -> Bool {
        guard let there = try? CurlURL.parse(url), let own = try? CurlURL.parse(base) else { return false }
        return there.sameOrigin(as: own)
    }

    /// The absolute URL of a next-page `link` of the tag list fetched from `current`: an absolute
    /// URL must be on the registry's origin; `//host/...`, `/path`, `path` and `?query` are
    /// resolved against `current` (RFC 3986).
    func resolveLink(_ link: String, from current: String, responseURL: String) throws(RegistryError) -> String {
        func refuse(_ reason: String) -> RegistryError {
            .malformedResponse(registry: registry, url: responseURL,
                               reason: "the tag list's next-page link \(RepositoryURL.redacted(String(link.prefix(200)))) \(reason)")
        }
        guard !link.isEmpty, !link.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) else {
            throw refuse("is not a URL")
        }
        let baseURL: CurlURL
        do { baseURL = try CurlURL.parse(base) } catch { throw refuse("cannot be resolved") }
        var absolute: String
        if link.hasPrefix("//") {
            absolute = baseURL.scheme + ":" + link
        } else if link.contains("://") {
            absolute = link
        } else if link.hasPrefix("/") {
            absolute = base + link
        } else {
            let withoutQuery = current.split(separator: "?", maxSplits: 1).first.map(String.init) ?? current
            if link.hasPrefix("?") {
                absolute = withoutQuery + link
            } else {
                let directory = withoutQuery[...(withoutQuery.lastIndex(of: "/") ?? withoutQuery.startIndex)]
                absolute = String(directory) + link
            }
        }
        let target: CurlURL
        do { target = try CurlURL.parse(absolute) } catch { throw refuse("is not a URL") }
        guard target.sameOrigin(as: baseURL), target.username == nil else {
            throw refuse("leads away from the registry's origin \(base)")
        }
        absolute = target.url
        return absolute
    }

    /// Answers the registry's challenge for `url` with a HEAD that follows no redirect, so that
    /// the token (or the basic-auth preference) is cached for the next request.
    func authorize(_ url: String) throws(RegistryError) {
        var transport = endpoint.transport
        transport.maxRedirects = 0
        do {
            _ = try send(.head, url, through: client.makeHTTPClient(transport))
        } catch {
            // A redirect (to object storage) means the registry accepted the credentials.
            if case .transport(_, .tooManyRedirects) = error { return }
            throw error
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
