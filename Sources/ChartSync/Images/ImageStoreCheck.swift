import ChartSyncBasics
import ChartSyncCore
import ChartSyncTransport

/// One way an image store (`images/`, in a project or a bundle) is not what images.lock says.
public struct ImageStoreProblem: Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Equatable {
        /// An images.lock image without an index.json entry, or with an entry for another digest.
        case imageNotStored
        /// An index.json entry images.lock does not list.
        case imageNotLocked
        /// A blob an image needs is not there.
        case blobMissing
        /// A blob's bytes do not hash to its name (or its size is not the one its manifest says).
        case blobMismatch
        /// A blob no image of index.json needs.
        case blobUnneeded
        /// index.json or oci-layout is missing or invalid, a manifest does not decode, or a file
        /// that is not a blob sits in the store.
        case invalid
    }

    /// What is wrong.
    public let kind: Kind
    /// The file concerned, relative to the project (or bundle) root: `images/index.json`,
    /// `images/blobs/sha256/<hex>`, ...
    public let path: String
    /// The images (index.json references) concerned, sorted.
    public let images: [String]
    /// What should be there.
    public let expected: String
    /// What is there.
    public let actual: String
    /// The problem in words (without the path).
    public let message: String

    /// Creates a problem.
    public init(_ kind: Kind, path: String, images: [String], expected: String, actual: String, message: String) {
        self.kind = kind
        self.path = path
        self.images = images
        self.expected = expected
        self.actual = actual
        self.message = message
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}

/// The rules an image store is held to, wherever it is read from (the project's `images/` by
/// the gate and `bundle`, a bundle's payload by `verify`): index.json names exactly the images of
/// images.lock with their pinned digests, and the store holds exactly the blobs those images need
/// (``ImageLayout/closure(of:read:)``), each one's SHA-256 its name. The callers supply how
/// manifests are read and what each blob hashes to, so every file is hashed once per run.
public enum ImageStoreCheck {
    /// The store's folder in a project and in a bundle.
    public static let directory = "images"

    /// `images/` + a path relative to the layout.
    public static func path(_ relative: String) -> String { directory + "/" + relative }

    /// `images/blobs/sha256/<hex>` for a digest.
    public static func blobPath(_ digest: String) -> String { path(ImageLayout.blobRelativePath(digest)) }

    /// index.json against images.lock: every images.lock image has an entry whose source digest is
    /// the pinned one; no entry is for an image images.lock does not list. A missing images.lock
    /// lists nothing.
    public static func lockProblems(entries: [ImageLayout.Entry], lock: ImagesManifest?) -> [ImageStoreProblem] {
        let index = "images/index.json"
        var problems: [ImageStoreProblem] = []
        var byName: [String: ImageLayout.Entry] = [:]
        for entry in entries { byName[entry.reference] = entry }
        var locked: Set<String> = []
        for image in lock?.images ?? [] {
            let name = ImageLayout.refName(image.reference)
            locked.insert(name)
            let pinned = image.reference.digest ?? "a pinned digest"
            guard let entry = byName[name] else {
                problems.append(ImageStoreProblem(.imageNotStored, path: index, images: [name], expected: "\(name) (\(pinned))",
                                                  actual: "no entry",
                                                  message: "images.lock lists \(image.reference), index.json has no entry for it; run chartsync images --pull"))
                continue
            }
            if entry.sourceDigest != image.reference.digest {
                problems.append(ImageStoreProblem(.imageNotStored, path: index, images: [name], expected: pinned, actual: entry.sourceDigest,
                                                  message: "\(name): images.lock pins \(pinned), index.json holds \(entry.sourceDigest); run chartsync images --pull"))
            }
        }
        for entry in entries where !locked.contains(entry.reference) {
            problems.append(ImageStoreProblem(.imageNotLocked, path: index, images: [entry.reference], expected: "no entry",
                                              actual: "\(entry.reference) (\(entry.sourceDigest))",
                                              message: "index.json holds \(entry.reference), which images.lock does not list; run chartsync images --pull"))
        }
        return problems
    }

    /// What the images need (``ImageLayout/closure(of:read:)``), with the manifests that could not
    /// be read as problems: missing when `present(digest)` says the file is not there, a mismatch
    /// when it is there but its bytes do not hash to its name, invalid otherwise.
    public static func needs(entries: [ImageLayout.Entry], read: (String, Int64) -> [UInt8]?, present: (String) -> Bool)
        -> (blobs: [ImageLayout.Blob], skipped: [ImageLayout.Blob], problems: [ImageStoreProblem]) {
        let closure = ImageLayout.closure(of: entries, read: read)
        let problems = closure.gaps.map { gap -> ImageStoreProblem in
            let images = gap.images.joined(separator: ", ")
            if !present(gap.digest) {
                return ImageStoreProblem(.blobMissing, path: blobPath(gap.digest), images: gap.images, expected: gap.digest,
                                         actual: "missing", message: "manifest \(gap.digest) of \(images) is missing")
            }
            if gap.reason.contains("do not match") {
                return ImageStoreProblem(.blobMismatch, path: blobPath(gap.digest), images: gap.images, expected: gap.digest,
                                         actual: "other bytes", message: "manifest \(gap.digest) of \(images): \(gap.reason)")
            }
            return ImageStoreProblem(.invalid, path: blobPath(gap.digest), images: gap.images, expected: "a manifest",
                                     actual: gap.reason, message: "manifest \(gap.digest) of \(images): \(gap.reason)")
        }
        return (closure.blobs, closure.skipped, problems)
    }

    /// Every needed blob against what it hashed to: `hashed(digest)` is the SHA-256 and size of
    /// the file named by the digest, nil when there is none. Blobs already reported by `needs`
    /// (in `reported`) are not reported twice.
    public static func contents(_ blobs: [ImageLayout.Blob], reported: [ImageStoreProblem] = [],
                                hashed: (String) -> (sha256: Digest, size: Int64)?) -> [ImageStoreProblem] {
        let already = Set(reported.map(\.path))
        var problems: [ImageStoreProblem] = []
        for blob in blobs where !already.contains(blobPath(blob.digest)) {
            let images = blob.images.joined(separator: ", ")
            let what = blob.isManifest ? "manifest" : "blob"
            guard let found = hashed(blob.digest) else {
                problems.append(ImageStoreProblem(.blobMissing, path: blobPath(blob.digest), images: blob.images,
                                                  expected: "\(blob.digest) (\(blob.size) bytes)", actual: "missing",
                                                  message: "\(what) \(blob.digest) (\(blob.mediaType), \(blob.size) bytes) of \(images) is missing"))
                continue
            }
            if found.sha256.prefixed != blob.digest || found.size != blob.size {
                problems.append(ImageStoreProblem(.blobMismatch, path: blobPath(blob.digest), images: blob.images,
                                                  expected: "\(blob.digest) (\(blob.size) bytes)",
                                                  actual: "\(found.sha256.prefixed) (\(found.size) bytes)",
                                                  message: "\(what) of \(images) is damaged: named \(blob.digest) (\(blob.size) bytes), "
                                                      + "its bytes hash to \(found.sha256.prefixed) (\(found.size) bytes)"))
            }
        }
        return problems
    }

    /// Blobs in the store no image needs (`stored` minus `blobs`).
    public static func unneeded(stored: Set<String>, blobs: [ImageLayout.Blob]) -> [ImageStoreProblem] {
        let needed = Set(blobs.map(\.digest))
        return stored.subtracting(needed).sorted().map { digest in
            ImageStoreProblem(.blobUnneeded, path: blobPath(digest), images: [], expected: "not there", actual: digest,
                              message: "no image of index.json needs \(digest); run chartsync images --pull to prune it")
        }
    }

    /// What each image of `entries` weighs and carries: the sum of its blobs' sizes (shared blobs
    /// counted for each image) and, for an index, its manifests' platforms.
    public static func summaries(entries: [ImageLayout.Entry], blobs: [ImageLayout.Blob], read: (String, Int64) -> [UInt8]?)
        -> [BundleManifest.StoredImage] {
        var sizes: [String: Int64] = [:]
        for blob in blobs { for image in blob.images { sizes[image, default: 0] += blob.size } }
        return entries.map { entry in
            var platforms: [String] = []
            if OCIManifest.indexTypes.contains(entry.descriptor.mediaType),
               let bytes = read(entry.descriptor.digest, entry.descriptor.size),
               let index = try? OCIManifest.parse(bytes, mediaType: entry.descriptor.mediaType) {
                platforms = index.manifests.compactMap(\.platform).map(ImageLayout.platformName)
            } else if let platform = entry.descriptor.platform {
                platforms = [ImageLayout.platformName(platform)]
            }
            return BundleManifest.StoredImage(reference: entry.reference, digest: entry.descriptor.digest,
                                              size: sizes[entry.reference] ?? 0, platforms: platforms)
        }.sorted { $0.reference < $1.reference }
    }
}
