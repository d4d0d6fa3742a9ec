import ChartSyncCore

extension RegistryClient {
    /// Whether `repository` on `registry` has the blob `digest` (`HEAD`).
    public func hasBlob(registry: String, repository: String, digest: String) throws(RegistryError) -> Bool {
        let session = RegistrySession(client: self, registry: registry, repository: repository,
                                      image: registry + "/" + repository + "@" + digest, push: true)
        let head = try session.send(.head, session.url("blobs/" + digest))
        if (200..<300).contains(head.status) { return true }
        guard head.status == 404 else { throw session.pushFailure(head, what: "blob \(digest)") }
        return false
    }

    /// Mounts the blob `digest` of `from` into `repository` (`POST …/blobs/uploads/?mount=&from=`):
    /// true when the registry mounted it (201); false when it would not (202: it opened an upload
    /// session instead, which is left unused and which the registry expires).
    public func mountBlob(registry: String, repository: String, digest: String, from: String) throws(RegistryError) -> Bool {
        let session = RegistrySession(client: self, registry: registry, repository: repository,
                                      image: registry + "/" + repository + "@" + digest, push: true, mountFrom: from)
        let mount = try session.send(.post, session.url("blobs/uploads/?mount=" + digest + "&from=" + from), body: .bytes([]))
        if mount.status == 201 { return true }
        guard mount.status == 202 else { throw session.pushFailure(mount, what: "blob \(digest)") }
        return false
    }

    /// A chunked upload of the blob `digest` (`size` bytes) into `repository`, fed in order from a
    /// stream that cannot be read again (`push BUNDLE`'s second pass).
    public func streamingUpload(registry: String, repository: String, digest: String, size: Int64) throws(RegistryError) -> BlobStreamUpload {
        let subject = registry + "/" + repository + "@" + digest
        if let reason = RegistryClient.problem(with: ImageReference(registry: registry, repository: repository, tag: nil, digest: nil)) {
            throw .invalidReference(image: subject, reason: reason)
        }
        guard RegistryClient.isSHA256Digest(digest) else {
            throw .invalidReference(image: subject, reason: "only sha256 blob digests are pushed, not \"\(digest.prefix(100))\"")
        }
        return BlobStreamUpload(session: RegistrySession(client: self, registry: registry, repository: repository, image: subject, push: true),
                                digest: digest, size: size)
    }
}

/// One blob uploaded in `PATCH` chunks as its bytes stream by (from a bundle being read), then
/// closed with `PUT ?digest=`, which the registry refuses unless the bytes hash to the digest.
/// Only the chunk in hand can be sent again: a chunk that fails is resumed from the offset the
/// registry reports when that offset is inside the chunk; a registry that lost earlier bytes, or
/// the whole session, fails the blob (the next push sends it again, whole). Memory: the caller's
/// chunk only. Used from one thread.
public final class BlobStreamUpload {
    private let session: RegistrySession
    /// The blob's digest and size.
    public let digest: String
    public let size: Int64
    /// The upload session's URL, once opened.
    private var location: String?
    /// The bytes the registry holds.
    private var offset: Int64 = 0
    /// The bytes sent, counting those sent again.
    public private(set) var sent: Int64 = 0

    init(session: RegistrySession, digest: String, size: Int64) {
        self.session = session
        self.digest = digest
        self.size = size
    }

    /// Opens the upload session (`POST`) unless it is open: before the first bytes are at hand,
    /// so that the round trip overlaps their reading. `append` opens it otherwise.
    public func start() throws(RegistryError) {
        guard location == nil else { return }
        let start = try session.send(.post, session.url("blobs/uploads/"), body: .bytes([]))
        guard start.status == 202 else { throw session.pushFailure(start, what: "blob \(digest)") }
        location = try session.uploadLocation(start)
    }

    /// Sends `chunk`, the next bytes of the blob.
    public func append(_ chunk: [UInt8]) throws(RegistryError) {
        guard !chunk.isEmpty else { return }
        try start()
        let first = offset
        let end = first + Int64(chunk.count)
        var failures = 0
        while offset < end {
            guard !session.client.cancellation.isCancelled else { throw .cancelled(image: session.image) }
            let from = Int(offset - first)
            let headers = [HTTPHeader("Content-Type", "application/octet-stream"),
                           HTTPHeader("Content-Range", "\(offset)-\(end - 1)")]
            let response: HTTPResponse
            do throws(RegistryError) {
                response = try session.sendUpload(.patch, location!, headers: headers,
                                                  body: .bytes(from == 0 ? chunk : Array(chunk[from...])))
                sent += end - offset
            } catch {
                if case .cancelled = error { throw error }
                failures += 1
                guard failures <= 3 else { throw error }
                try resume(within: first...end, after: error)
                continue
            }
            if response.status == 416 {
                failures += 1
                guard failures <= 3 else { throw session.pushFailure(response, what: "blob \(digest)") }
                try resume(within: first...end, after: session.pushFailure(response, what: "blob \(digest)"))
                continue
            }
            guard response.status == 202 else { throw session.pushFailure(response, what: "blob \(digest)") }
            location = try session.uploadLocation(response)
            offset = end
        }
    }

    /// Sends `last` (the blob's final bytes, maybe none) and closes the upload; the bytes sent.
    public func finish(_ last: [UInt8]) throws(RegistryError) -> Int64 {
        try append(last)
        guard offset == size, let location else {
            throw .malformedResponse(registry: session.registry, url: location ?? session.url("blobs/uploads/"),
                                     reason: "the upload of \(digest) ended after \(offset) of \(size) bytes")
        }
        let done = try session.sendUpload(.put, location + (location.contains("?") ? "&" : "?") + "digest=" + digest, body: .bytes([]))
        guard done.status == 201 else { throw session.pushFailure(done, what: "blob \(digest)") }
        return sent
    }

    /// Asks the registry how far it got; continues from there when that is inside `chunk`.
    private func resume(within chunk: ClosedRange<Int64>, after error: RegistryError) throws(RegistryError) {
        guard let location, let status = try? session.uploadStatus(location) else { throw error }
        guard chunk.contains(status.offset) else {
            throw .malformedResponse(registry: session.registry, url: location,
                                     reason: "the registry holds \(status.offset) bytes of \(digest), outside the chunk in hand "
                                        + "(\(chunk.lowerBound)-\(chunk.upperBound)); the bytes before it streamed by already "
                                        + "(after: \(error))")
        }
        self.location = status.location
        offset = status.offset
    }
}
