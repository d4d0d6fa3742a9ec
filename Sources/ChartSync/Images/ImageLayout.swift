import ChartSyncBasics
import ChartSyncCore
import ChartSyncTransport
import struct Crypto.SHA256

/// The OCI image layout (image spec 1.1, `image-layout.md`) chartsync keeps at `images/`:
/// `oci-layout`, `index.json` with one entry per image of images.lock (its
/// `org.opencontainers.image.ref.name` the full reference, `registry/repository:tag`), and every
/// manifest, index, config and layer under `blobs/sha256/<hex>`. What skopeo (`oci:DIR:REF`),
/// crane, oras and umoci read.
public struct ImageLayout: Sendable {
    /// The annotation naming an image in `index.json`.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// The annotation of an `index.json` entry whose index chartsync filtered to the chart list's
    /// platforms: the digest of the upstream index it was cut from (the one images.lock pins). The
    /// layout keeps that index too (not its other platforms): the proof of the source, and what a
    /// next pull narrows again without asking the registry.
    public static let sourceDigestAnnotation = "dev.chartsync.image.source-digest"
    /// The contents of `oci-layout`.
    public static let layoutText = "{\"imageLayoutVersion\":\"1.0.0\"}"
    /// Layer media types a registry need not serve (foreign and non-distributable layers): the
    /// layout does not carry them; a pull reports each.
    public static let nonDistributableLayerTypes: Set<String> = [
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    ]

    /// The layout's directory (`<project>/images`).
    public let root: String

    /// A layout at `root`.
    public init(root: String) {
        self.root = root
    }

    /// `index.json`.
    public var indexPath: String { root + "/index.json" }
    /// `oci-layout`.
    public var layoutPath: String { root + "/oci-layout" }
    /// `blobs/sha256`.
    public var blobsDirectory: String { root + "/blobs/sha256" }

    /// Where the blob `digest` (`sha256:<hex>`) lives.
    public func blobPath(_ digest: String) -> String {
        blobsDirectory + "/" + digest.dropFirst("sha256:".count)
    }

    /// The path of a blob relative to the layout's root: `blobs/sha256/<hex>`.
    public static func blobRelativePath(_ digest: String) -> String {
        "blobs/sha256/" + digest.dropFirst("sha256:".count)
    }

    /// Whether `path` (relative to the layout root) is `blobs/sha256/<64 lowercase hex>`; its digest.
    public static func digest(ofBlobPath path: String) -> String? {
        guard path.hasPrefix("blobs/sha256/") else { return nil }
        let hex = path.dropFirst("blobs/sha256/".count)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return nil
        }
        return "sha256:" + hex
    }

    /// The name index.json gives an image of images.lock: `registry/repository:tag`, or
    /// `registry/repository@digest` when it has no tag.
    public static func refName(_ reference: ImageReference) -> String {
        var name = reference
        if name.tag != nil { name.digest = nil }
        return name.description
    }

    /// `os/architecture[/variant]` of an index entry.
    public static func platformName(_ platform: OCIPlatform) -> String {
        [platform.os, platform.architecture, platform.variant].compactMap { $0 }.joined(separator: "/")
    }

    // MARK: - index.json

    /// One image of `index.json`.
    public struct Entry: Sendable, Equatable {
        /// The image's full reference, as `org.opencontainers.image.ref.name` says:
        /// `registry/repository:tag` (or `@sha256:...` for an image named by digest only).
        public var reference: String
        /// The manifest or index it names.
        public var descriptor: OCIDescriptor

        /// Creates an entry; `descriptor`'s annotations get the reference name.
        public init(reference: String, descriptor: OCIDescriptor) {
            self.reference = reference
            var descriptor = descriptor
            var annotations = descriptor.annotations ?? [:]
            annotations[ImageLayout.refNameAnnotation] = reference
            descriptor.annotations = annotations
            self.descriptor = descriptor
        }

        /// The upstream digest the entry stands for: its source digest when chartsync filtered the
        /// index to some platforms, else its own.
        public var sourceDigest: String {
            descriptor.annotations?[ImageLayout.sourceDigestAnnotation] ?? descriptor.digest
        }
    }

    /// The bytes of `index.json` for `entries`: deterministic (entries sorted by reference,
    /// annotations by key, no whitespace variation), so the same images give the same file.
    public static func indexBytes(_ entries: [Entry]) -> [UInt8] {
        let sorted = entries.sorted { $0.reference < $1.reference }
        var text = "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"\(OCIManifest.ociIndex)\",\n  \"manifests\": ["
        text += sorted.map { "\n    " + descriptorJSON($0.descriptor) }.joined(separator: ",")
        text += sorted.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return Array(text.utf8)
    }

    /// One descriptor as compact JSON, keys in a fixed order (mediaType, digest, size, platform,
    /// annotations).
    public static func descriptorJSON(_ descriptor: OCIDescriptor) -> String {
        let q = Quoting.json
        var parts = ["\"mediaType\":\(q(descriptor.mediaType))", "\"digest\":\(q(descriptor.digest))",
                     "\"size\":\(descriptor.size)"]
        if let platform = descriptor.platform {
            var fields = ["\"architecture\":\(q(platform.architecture))", "\"os\":\(q(platform.os))"]
            if let version = platform.osVersion { fields.append("\"os.version\":\(q(version))") }
            if let variant = platform.variant { fields.append("\"variant\":\(q(variant))") }
            parts.append("\"platform\":{" + fields.joined(separator: ",") + "}")
        }
        if let annotations = descriptor.annotations, !annotations.isEmpty {
            parts.append("\"annotations\":{" + annotations.sorted { $0.key < $1.key }
                .map { "\(q($0.key)):\(q($0.value))" }.joined(separator: ",") + "}")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Reads `index.json`; nil when the layout has none. Every entry needs a
    /// `org.opencontainers.image.ref.name` (chartsync names every image), a manifest or index media
    /// type and a sha256 digest; a reference named twice is refused.
    public func entries() throws(ImageLayoutError) -> [Entry]? {
        guard FileSystem.exists(indexPath) || FileSystem.isSymlink(indexPath) else { return nil }
        guard FileSystem.isRegularFile(indexPath), !FileSystem.isSymlink(indexPath) else {
            throw .invalid(path: indexPath, reason: "is not a regular file")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(indexPath, limit: Int(RegistryClient.manifestSizeLimit))
        } catch {
            throw .fileSystem(error)
        }
        return try Self.parseIndex(bytes, source: indexPath)
    }

    /// Decodes the bytes of an `index.json` (see `entries()`); `source` names it in errors.
    public static func parseIndex(_ bytes: [UInt8], source: String) throws(ImageLayoutError) -> [Entry] {
        let index: OCIManifest
        do {
            index = try OCIManifest.parse(bytes, mediaType: OCIManifest.ociIndex)
        } catch {
            throw .invalid(path: source, reason: error.description)
        }
        guard index.isIndex else { throw .invalid(path: source, reason: "is not an image index") }
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        for (i, descriptor) in index.manifests.enumerated() {
            guard let reference = descriptor.annotations?[refNameAnnotation], !reference.isEmpty else {
                throw .invalid(path: source, reason: "manifests[\(i)] has no \(refNameAnnotation) annotation")
            }
            guard descriptor.sha256 != nil else {
                throw .invalid(path: source, reason: "manifests[\(i)] (\(reference)): only sha256 digests are carried, not \(descriptor.digest)")
            }
            guard OCIManifest.manifestTypes.union(OCIManifest.indexTypes).contains(descriptor.mediaType) else {
                throw .invalid(path: source, reason: "manifests[\(i)] (\(reference)): \(descriptor.mediaType) is not a manifest or index media type")
            }
            if let first = seen[reference] {
                throw .invalid(path: source, reason: "\(reference) is named twice (manifests[\(first)] and manifests[\(i)])")
            }
            seen[reference] = i
            entries.append(Entry(reference: reference, descriptor: descriptor))
        }
        return entries
    }

    // MARK: - What the images need

    /// One blob the layout's images need.
    public struct Blob: Sendable, Equatable {
        /// `sha256:<hex>`.
        public let digest: String
        /// Its size as the manifest that names it says.
        public let size: Int64
        /// Its media type as the manifest that names it says.
        public let mediaType: String
        /// Whether it is a manifest or index (read to find more blobs).
        public let isManifest: Bool
        /// The references (index.json names) of the images that need it, sorted.
        public var images: [String]
    }

    /// Why an image's blobs could not all be worked out.
    public struct Gap: Sendable, Equatable, CustomStringConvertible {
        /// The blob concerned (`sha256:...`).
        public let digest: String
        /// The images that need it.
        public let images: [String]
        /// What is wrong: missing, or not the manifest its digest names.
        public let reason: String

        public var description: String {
            "\(digest) (needed by \(images.joined(separator: ", "))): \(reason)"
        }
    }

    /// What the images of `entries` need: every manifest, index, config and layer, each once,
    /// in a stable order (by digest), and the manifests that could not be read (`read` returned
    /// nil, or the bytes do not hash to the digest, or do not decode). `read(digest, size)`
    /// returns a manifest's bytes (at most `RegistryClient.manifestSizeLimit`) or nil when absent.
    /// Foreign and non-distributable layers are left out, and listed in `skipped`. An entry narrowed
    /// to some platforms also needs the upstream index its source-digest annotation names (that
    /// index alone: the platforms left out are not needed).
    public static func closure(of entries: [Entry], read: (String, Int64) -> [UInt8]?)
        -> (blobs: [Blob], gaps: [Gap], skipped: [Blob]) {
        var blobs: [String: Blob] = [:]
        var skipped: [String: Blob] = [:]
        var gaps: [String: Gap] = [:]
        func add(_ descriptor: OCIDescriptor, manifest: Bool, image: String, into table: inout [String: Blob]) -> Bool {
            if var known = table[descriptor.digest] {
                if !known.images.contains(image) { known.images.append(image) }
                table[descriptor.digest] = known
                return false
            }
            table[descriptor.digest] = Blob(digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType,
                                            isManifest: manifest, images: [image])
            return true
        }
        func walk(_ descriptor: OCIDescriptor, image: String, depth: Int) {
            guard add(descriptor, manifest: true, image: image, into: &blobs) else { return }
            func gap(_ reason: String) { gaps[descriptor.digest] = Gap(digest: descriptor.digest, images: [image], reason: reason) }
            guard depth < 8 else { return gap("indexes nest more than 8 deep") }
            guard descriptor.sha256 != nil else { return gap("only sha256 digests are carried") }
            guard let bytes = read(descriptor.digest, descriptor.size) else { return gap("the manifest is missing") }
            guard Digest(bytes: SHA256.hash(data: bytes)).prefixed == descriptor.digest, Int64(bytes.count) == descriptor.size else {
                return gap("the manifest's bytes do not match its digest and size")
            }
            let manifest: OCIManifest
            do {
                manifest = try OCIManifest.parse(bytes, mediaType: descriptor.mediaType)
            } catch {
                return gap(error.description)
            }
            for child in manifest.manifests { walk(child, image: image, depth: depth + 1) }
            if let config = manifest.config { _ = add(config, manifest: false, image: image, into: &blobs) }
            for layer in manifest.layers {
                if nonDistributableLayerTypes.contains(layer.mediaType) {
                    _ = add(layer, manifest: false, image: image, into: &skipped)
                } else {
                    _ = add(layer, manifest: false, image: image, into: &blobs)
                }
            }
        }
        for entry in entries {
            walk(entry.descriptor, image: entry.reference, depth: 0)
            let source = entry.sourceDigest
            guard source != entry.descriptor.digest else { continue }
            func gap(_ reason: String) { gaps[source] = Gap(digest: source, images: [entry.reference], reason: reason) }
            guard RegistryClient.isSHA256Digest(source) else { gap("only sha256 digests are carried"); continue }
            guard let bytes = read(source, RegistryClient.manifestSizeLimit) else {
                gap("the index it was narrowed from is missing"); continue
            }
            guard Digest(bytes: SHA256.hash(data: bytes)).prefixed == source else {
                gap("the bytes of the index it was narrowed from do not match its digest"); continue
            }
            let descriptor = OCIDescriptor(mediaType: entry.descriptor.mediaType, digest: source, size: Int64(bytes.count))
            _ = add(descriptor, manifest: true, image: entry.reference, into: &blobs)
        }
        // Images that share a manifest keep each name once, sorted; gaps name every image.
        func sortedImages(_ table: [String: Blob]) -> [Blob] {
            table.values.map { var blob = $0; blob.images.sort(); return blob }.sorted { $0.digest < $1.digest }
        }
        let all = sortedImages(blobs)
        let byDigest = Dictionary(uniqueKeysWithValues: all.map { ($0.digest, $0) })
        let named = gaps.values.map { Gap(digest: $0.digest, images: byDigest[$0.digest]?.images ?? $0.images, reason: $0.reason) }
        return (all, named.sorted { $0.digest < $1.digest }, sortedImages(skipped))
    }

    /// Reads a manifest blob from the layout (nil when absent or larger than a manifest may be).
    public func readManifest(_ digest: String, size: Int64) -> [UInt8]? {
        guard size <= RegistryClient.manifestSizeLimit, RegistryClient.isSHA256Digest(digest) else { return nil }
        let path = blobPath(digest)
        guard FileSystem.isRegularFile(path), !FileSystem.isSymlink(path) else { return nil }
        return try? FileSystem.readFile(path, limit: Int(RegistryClient.manifestSizeLimit))
    }

    /// The digests of the files in `blobs/sha256` that are named as blobs (`<64 hex>`), and the
    /// other names found there (temporary files, strays).
    public func storedBlobs() -> (digests: Set<String>, others: [String]) {
        var digests: Set<String> = []
        var others: [String] = []
        for name in (try? FileSystem.listDirectory(blobsDirectory)) ?? [] {
            if let digest = Self.digest(ofBlobPath: "blobs/sha256/" + name), FileSystem.isRegularFile(blobsDirectory + "/" + name) {
                digests.insert(digest)
            } else {
                others.append(name)
            }
        }
        return (digests, others.sorted())
    }
}

/// Why the image layout could not be read or written.
public enum ImageLayoutError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `index.json` (or `oci-layout`) is not what the layout format says.
    case invalid(path: String, reason: String)
    /// The directory exists and is not an image layout chartsync may write to.
    case notALayout(path: String, reason: String)
    /// A file operation failed.
    case fileSystem(FileSystemError)

    public var description: String {
        switch self {
        case .invalid(let path, let reason): return "\(path): \(reason)"
        case .notALayout(let path, let reason): return "\(path) \(reason); chartsync keeps its image store there (move it away, or remove it)"
        case .fileSystem(let error): return error.description
        }
    }
}
