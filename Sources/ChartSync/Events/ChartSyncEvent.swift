import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// Progress and diagnostics the use cases report instead of printing.
public enum ChartSyncEvent: Sendable, CustomStringConvertible {
    /// An index download is starting (URL redacted).
    case fetchingIndex(url: String)
    /// Bytes of a repository's index received so far (every 256 KiB).
    case indexProgress(url: String, bytes: Int64)
    /// An index was downloaded and read.
    case readIndex(url: String, bytes: Int64, charts: Int)
    /// The index has an entry Helm would skip or a doubtful one.
    case indexWarning(IndexWarning)
    /// A chart tarball was added to a repository index.
    case indexedChart(name: String, version: String, file: String)
    /// A chart download is starting.
    case downloading(name: String, version: String, url: String)
    /// A chart was downloaded and proven.
    case downloaded(name: String, version: String, bytes: Int64, sha256: Digest)
    /// A chart already in place was proven again; nothing to do.
    case chartUnchanged(name: String, version: String)
    /// A chart's unpacked directory was rebuilt from its proven tarball.
    case chartUnpacked(name: String, version: String)
    /// A path was removed from charts/external.
    case removed(path: String)
    /// Every vendored chart was proven against versions.lock before packing.
    case proved(charts: Int, files: Int)
    /// A blob of an image is being downloaded into the image store.
    case imageBlobFetching(digest: String, size: Int64, image: String)
    /// A blob of an image was downloaded and proven against its digest and size.
    case imageBlobFetched(digest: String, size: Int64, image: String)
    /// `push`: a blob is in a repository of the registry (sent, mounted, or there already).
    case blobPushed(digest: String, repository: String, outcome: BlobPushOutcome)
    /// `push`: a chart's or image's tag names its manifest (`status`: pushed, unchanged, overwritten).
    case artifactPushed(target: String, digest: String, status: String)
    /// A foreign or non-distributable layer the store does not carry.
    case imageLayerSkipped(digest: String, mediaType: String, images: [String])

    public var description: String {
        switch self {
        case .fetchingIndex(let url): return "fetching \(url)"
        case .indexProgress(let url, let bytes): return "fetching \(url): \(bytes) bytes"
        case .readIndex(let url, let bytes, let charts): return "read \(url) (\(bytes) bytes, \(charts) chart(s) kept)"
        case .indexWarning(let warning): return "warning: \(warning)"
        case .indexedChart(let name, let version, let file): return "indexed \(name) \(version) from \(file)"
        case .downloading(let name, let version, let url): return "downloading \(name) \(version) from \(url)"
        case .downloaded(let name, let version, let bytes, let sha256):
            return "proved \(name) \(version): \(bytes) bytes, \(sha256.prefixed)"
        case .chartUnchanged(let name, let version): return "unchanged \(name) \(version)"
        case .chartUnpacked(let name, let version): return "unpacked \(name) \(version) again from its proven tarball"
        case .removed(let path): return "removed \(path)"
        case .proved(let charts, let files): return "proved \(charts) chart(s) against versions.lock; packing \(files) file(s)"
        case .imageBlobFetching(let digest, let size, let image): return "downloading \(digest) (\(size) bytes) of \(image)"
        case .imageBlobFetched(let digest, let size, let image): return "proved \(digest) of \(image): \(size) bytes"
        case .blobPushed(let digest, let repository, let outcome):
            switch outcome {
            case .present: return "\(repository) has \(digest)"
            case .mounted(let from): return "mounted \(digest) into \(repository) from \(from)"
            case .uploaded(let bytes): return "uploaded \(digest) to \(repository) (\(bytes) bytes)"
            }
        case .artifactPushed(let target, let digest, let status): return "\(status) \(target) (\(digest))"
        case .imageLayerSkipped(let digest, let mediaType, let images):
            return "warning: \(images.joined(separator: ", ")): layer \(digest) is \(mediaType), which registries need not serve; the store does not carry it"
        }
    }
}

/// Receives events; called from the thread doing the work.
public typealias ChartSyncEventHandler = @Sendable (ChartSyncEvent) -> Void
