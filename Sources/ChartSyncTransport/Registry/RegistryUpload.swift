import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256

/// How a blob reached the registry.
public enum BlobPushOutcome: Sendable, Equatable {
    /// The repository had it already (HEAD 200): nothing sent.
    case present
    /// Mounted from another repository of the same registry: nothing sent.
    case mounted(from: String)
    /// Uploaded: this many bytes sent (more than the blob's size when a chunk was sent again).
    case uploaded(bytes: Int64)
}

extension RegistryClient {
    /// Blobs up to this size go in one PUT; larger ones in chunks of `uploadChunkSize`.
    public static let monolithicUploadLimit: Int64 = 32 << 20
    /// The size of one PATCH of a chunked upload.
    public static let uploadChunkSize: Int64 = 32 << 20
    /// Upload sessions started again after a failure before giving up on a blob.
    public static let uploadSessionAttempts = 3

    /// Puts the blob `digest` (`content`: bytes, or a file read as it is sent) into `repository` on
    /// `registry`, sending only what is missing: a `HEAD` first (present: nothing to do); then, when
    /// `mountFrom` names another repository of the registry that has it, a cross-repository mount
    /// (`POST …/blobs/uploads/?mount=&from=`); else an upload: one `PUT` for a blob up to
    /// `monolithicUploadLimit`, `PATCH` chunks then a closing `PUT` for a larger one. A chunk that
    /// fails is resumed from the offset the registry reports (`GET` on the upload session); a
    /// session the registry forgot is started again (`uploadSessionAttempts`). An upload location
    /// on another origin (object storage) gets no credentials. The file must be the blob: the
    /// caller proves it first; the registry proves it again against `digest`.
    public func pushBlob(registry: String, repository: String, digest: String, content: RequestBody,
                         mountFrom: String? = nil, progress: TransferProgress? = nil) throws(RegistryError) -> BlobPushOutcome {
        let size = content.count
        let subject = registry + "/" + repository + "@" + digest
        if let reason = RegistryClient.problem(with: ImageReference(registry: registry, repository: repository, tag: nil, digest: nil)) {
            throw .invalidReference(image: subject, reason: reason)
        }
        guard RegistryClient.isSHA256Digest(digest) else {
            throw .invalidReference(image: subject, reason: "only sha256 blob digests are pushed, not \"\(digest.prefix(100))\"")
        }
        let session = RegistrySession(client: self, registry: registry, repository: repository, image: subject, push: true,
                                      mountFrom: mountFrom == repository ? nil : mountFrom)
        let head = try session.send(.head, session.url("blobs/" + digest))
        if (200..<300).contains(head.status) { return .present }
        guard head.status == 404 else { throw session.pushFailure(head, what: "blob \(digest)") }

        var sent: Int64 = 0
        var lastError: RegistryError?
        sessions: for _ in 0..<RegistryClient.uploadSessionAttempts {
            guard !cancellation.isCancelled else { throw .cancelled(image: subject) }
            var location: String
            if let from = mountFrom, from != repository {
                let mount = try session.send(.post, session.url("blobs/uploads/?mount=" + digest + "&from=" + from),
                                             body: .bytes([]))
                if mount.status == 201 { return .mounted(from: from) }
                guard mount.status == 202 else { throw session.pushFailure(mount, what: "blob \(digest)") }
                location = try session.uploadLocation(mount)
            } else {
                let start = try session.send(.post, session.url("blobs/uploads/"), body: .bytes([]))
                guard start.status == 202 else { throw session.pushFailure(start, what: "blob \(digest)") }
                location = try session.uploadLocation(start)
            }
            do throws(RegistryError) {
                guard case let .file(path, start, _) = content, size > RegistryClient.monolithicUploadLimit else {
                    let done = try session.sendUpload(.put, location.appendingQuery("digest=" + digest), body: content)
                    sent += size
                    guard done.status == 201 else { throw session.pushFailure(done, what: "blob \(digest)") }
                    return .uploaded(bytes: sent)
                }
                var offset: Int64 = 0
                var failures = 0
                while offset < size {
                    let length = min(RegistryClient.uploadChunkSize, size - offset)
                    let headers = [HTTPHeader("Content-Type", "application/octet-stream"),
                                   HTTPHeader("Content-Range", "\(offset)-\(offset + length - 1)")]
                    let chunk: HTTPResponse
                    do throws(RegistryError) {
                        chunk = try session.sendUpload(.patch, location, headers: headers,
                                                       body: .file(path: path, offset: start + offset, length: length))
                        sent += length
                    } catch {
                        if case .cancelled = error { throw error }
                        // The connection broke mid-chunk: ask the registry how far it got. A
                        // registry that dropped the session instead (distribution cancels an upload
                        // whose stored bytes no longer match its state) gets a new one.
                        failures += 1
                        guard failures <= 3 else { throw error }
                        guard let resumed = try? session.uploadStatus(location) else {
                            lastError = error
                            continue sessions
                        }
                        (location, offset) = resumed
                        continue
                    }
                    if chunk.status == 416 {
                        failures += 1
                        guard failures <= 3 else { throw session.pushFailure(chunk, what: "blob \(digest)") }
                        (location, offset) = try session.uploadStatus(location)
                        continue
                    }
                    guard chunk.status == 202 else { throw session.pushFailure(chunk, what: "blob \(digest)") }
                    location = try session.uploadLocation(chunk)
                    offset += length
                    progress?(offset)
                }
                let done = try session.sendUpload(.put, location.appendingQuery("digest=" + digest), body: .bytes([]))
                guard done.status == 201 else { throw session.pushFailure(done, what: "blob \(digest)") }
                return .uploaded(bytes: sent)
            } catch {
                if case .cancelled = error { throw error }
                // A session the registry no longer knows (404 BLOB_UPLOAD_UNKNOWN) or gave up on
                // (400 BLOB_UPLOAD_INVALID, distribution's "start over"): start again.
                if case let .unexpectedStatus(image: _, url: _, status: status, message: message) = error,
                   (status == 404 && message?.hasPrefix("BLOB_UPLOAD_UNKNOWN") == true)
                    || (status == 400 && message?.hasPrefix("BLOB_UPLOAD_INVALID") == true) {
                    lastError = error
                    continue
                }
                throw error
            }
        }
        throw lastError ?? .malformedResponse(registry: registry, url: session.url("blobs/uploads/"),
                                              reason: "the upload of \(digest) did not complete")
    }

    /// The digest of the manifest `tag` names in `repository` (HEAD, else GET), nil when the
    /// registry has no such tag (or no such repository).
    public func existingManifest(registry: String, repository: String, tag: String) throws(RegistryError) -> String? {
        let subject = registry + "/" + repository + ":" + tag
        let session = RegistrySession(client: self, registry: registry, repository: repository, image: subject, push: true)
        let url = session.url("manifests/" + tag)
        let head = try session.send(.head, url, accept: RegistryClient.manifestMediaTypes)
        if head.status == 404 { return nil }
        guard (200..<300).contains(head.status) else { throw session.pushFailure(head, what: "tag \(tag)") }
        if let header = head.header("Docker-Content-Digest"), RegistryClient.isSHA256Digest(header) { return header }
        return try session.manifestDigest(url: url, wanted: nil)
    }

    /// PUTs a manifest or index (`bytes`, served as `mediaType`) into `repository` under
    /// `reference` (a tag, or its own digest); returns its digest. The registry must name the same
    /// digest when it names one (else `manifestMismatch`).
    @discardableResult
    public func pushManifest(registry: String, repository: String, reference: String, bytes: [UInt8],
                             mediaType: String) throws(RegistryError) -> String {
        let digest = Digest(bytes: SHA256.hash(data: bytes)).prefixed
        let subject = registry + "/" + repository + (reference.contains(":") ? "@" : ":") + reference
        let session = RegistrySession(client: self, registry: registry, repository: repository, image: subject, push: true)
        let url = session.url("manifests/" + reference)
        let response = try session.send(.put, url, headers: [HTTPHeader("Content-Type", mediaType)], body: .bytes(bytes))
        guard response.status == 201 || response.status == 200 else { throw session.pushFailure(response, what: "manifest \(digest)") }
        if let header = response.header("Docker-Content-Digest"), RegistryClient.isSHA256Digest(header), header != digest {
            throw .manifestMismatch(image: subject, url: response.url, expected: digest, actual: header)
        }
        return digest
    }
}

extension RegistrySession {
    /// The absolute URL of the upload session a 202 names in `Location` (absolute, or a path on the registry).
    func uploadLocation(_ response: HTTPResponse) throws(RegistryError) -> String {
        guard let location = response.header("Location"), !location.isEmpty else {
            throw .malformedResponse(registry: registry, url: response.url, reason: "an upload answer without a Location")
        }
        if location.hasPrefix("/") { return base + location }
        guard location.hasPrefix("https://") || location.hasPrefix("http://") else {
            throw .malformedResponse(registry: registry, url: response.url,
                                     reason: "the upload Location \(RepositoryURL.redacted(String(location.prefix(200)))) is not a URL")
        }
        return location
    }

    /// Sends a request of an upload session: with the registry's credentials on its own origin, and
    /// without any on another origin (object storage behind the registry).
    func sendUpload(_ method: HTTPMethod, _ url: String, headers: [HTTPHeader] = [], body: RequestBody) throws(RegistryError) -> HTTPResponse {
        if isOwnOrigin(url) {
            return try send(method, url, headers: headers, body: body)
        }
        do {
            return try http.send(TransferRequest(url: url, method: method, headers: headers, body: body))
        } catch {
            throw registryError(error)
        }
    }

    /// Where an upload session stands (`GET` on it: `Range: 0-<last>`): its location and the next
    /// offset. distribution writes `0-0` for an empty session as well as for one holding one byte:
    /// read as empty (sending one byte again beats skipping the first byte of a blob).
    func uploadStatus(_ location: String) throws(RegistryError) -> (location: String, offset: Int64) {
        let response = try send(.get, location)
        guard response.status == 204 || response.status == 202 else { throw pushFailure(response, what: "upload session") }
        let next = (try? uploadLocation(response)) ?? location
        guard let range = response.header("Range") else { return (next, 0) }
        let parts = range.split(separator: "-")
        guard parts.count == 2, let last = Int64(parts[1].filter(\.isNumber)), last > 0 else { return (next, 0) }
        return (next, last + 1)
    }

    /// The error for a push request that did not succeed: a missing Harbor project said as such,
    /// else the status with the registry's message.
    func pushFailure(_ response: HTTPResponse, what: String) -> RegistryError {
        let message = RegistrySession.errorMessage(response.body)
        if let message, [403, 404].contains(response.status), message.lowercased().contains("project"),
           message.lowercased().contains("not found") {
            let project = repository.split(separator: "/").first.map(String.init) ?? repository
            return .projectMissing(registry: registry, project: project, message: message)
        }
        switch response.status {
        case 403: return .accessDenied(image: image, registry: registry)
        case 404 where message?.hasPrefix("NAME_UNKNOWN") == true: return .repositoryUnknown(image: image, registry: registry)
        default:
            return .unexpectedStatus(image: image + " (" + what + ")", url: response.url, status: response.status, message: message)
        }
    }
}

extension String {
    /// The URL with `item` added to its query (`?` or `&`).
    fileprivate func appendingQuery(_ item: String) -> String {
        self + (contains("?") ? "&" : "?") + item
    }
}
