/// images.lock: the container images the vendored charts use with default values, each with
/// the charts that use it and, once resolved, its manifest digest. Deterministic: sorted by
/// image, charts sorted, no timestamps.
public struct ImagesManifest: Sendable, Equatable {
    /// One image.
    public struct Image: Sendable, Equatable {
        /// The image, normalized; with its digest (`name:tag@sha256:...`) when pinned.
        public var reference: ImageReference
        /// The vendored charts (names) that use it, sorted; empty for an image only the chart list adds.
        public var charts: [String]
        /// Listed under `images.extra` in the chart list.
        public var extra: Bool

        /// Creates an entry; `charts` are sorted and deduplicated.
        public init(reference: ImageReference, charts: [String], extra: Bool = false) {
            self.reference = reference
            self.charts = Array(Set(charts)).sorted()
            self.extra = extra
        }
    }

    /// The images, sorted by their reference without digest.
    public var images: [Image]

    /// Creates a manifest; images are sorted.
    public init(images: [Image]) {
        self.images = images.sorted { $0.reference.withoutDigest < $1.reference.withoutDigest }
    }

    /// The same manifest with every digest removed: what the charts say, before pinning.
    public var unpinned: ImagesManifest {
        ImagesManifest(images: images.map { Image(reference: $0.reference.withoutDigest, charts: $0.charts, extra: $0.extra) })
    }

    /// The entry for an image (compared without digest).
    public func image(_ reference: ImageReference) -> Image? {
        images.first { $0.reference.withoutDigest == reference.withoutDigest }
    }
}
