import ChartSyncCore

/// The compression of a bundle's tar stream.
public enum BundleCompression: String, Sendable, CaseIterable {
    /// Zstandard (libarchive's default level); the default for bundles.
    case zstd
    /// gzip, with no timestamp and no file name in its header.
    case gzip
    /// A plain tar stream.
    case none
}

/// One file to put into a bundle.
public struct BundlePayloadFile: Sendable, Equatable {
    /// The path inside the bundle's payload, relative (`charts/external/x-1.0.0.tgz`); stored as `payload/<path>`.
    public var path: String
    /// The file on disk to read (a regular file; a symlink as its last component is refused).
    public var source: String
    /// Whether the entry gets mode 0755 instead of 0644.
    public var executable: Bool

    /// Creates a payload file.
    public init(path: String, source: String, executable: Bool = false) {
        self.path = path
        self.source = source
        self.executable = executable
    }
}

/// One file of a written or read bundle: the whole bundle, or one part of a split bundle.
public struct BundlePart: Sendable, Equatable, Hashable {
    /// The path of the file (as written, or as given to the reader).
    public let file: String
    /// Its size in bytes.
    public let size: Int64
    /// The SHA-256 of its bytes.
    public let sha256: ChartSyncCore.Digest

    /// Creates a part description (for example from a sidecar file, to check parts while reading).
    public init(file: String, size: Int64, sha256: ChartSyncCore.Digest) {
        self.file = file
        self.size = size
        self.sha256 = sha256
    }
}

/// What the bundle writer produced.
public struct BundleWriteResult: Sendable {
    /// The files written, in order: one, or the parts `FILE.000`, `FILE.001`, … of a split bundle.
    public let parts: [BundlePart]
    /// The SHA-256 of the whole compressed stream (all parts joined).
    public let sha256: ChartSyncCore.Digest
    /// The size of the whole compressed stream in bytes.
    public let size: Int64
}

/// What a verified payload file must be.
public struct BundleExpectedFile: Sendable, Equatable {
    /// The path inside the payload, relative (the entry is `payload/<path>`).
    public var path: String
    /// The exact size in bytes.
    public var size: Int64
    /// The SHA-256 of the file's bytes.
    public var sha256: ChartSyncCore.Digest
    /// Whether the entry must have mode 0755 (otherwise 0644).
    public var executable: Bool

    /// Creates an expectation.
    public init(path: String, size: Int64, sha256: ChartSyncCore.Digest, executable: Bool = false) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.executable = executable
    }
}

/// Limits for reading one bundle, counted on the decompressed bytes (never trusted from headers).
public struct BundleLimits: Sendable {
    /// The most bytes all payload files together may hold.
    public var maxTotalBytes: Int64
    /// The most bytes one payload file may hold.
    public var maxFileBytes: Int64
    /// The most entries the archive may have (the manifest entries included).
    public var maxEntries: Int
    /// The most bytes `MANIFEST` (and, separately, `MANIFEST.sig`) may hold.
    public var maxManifestBytes: Int

    /// Creates limits; the defaults are 64 GiB in total, 8 GiB per file, a million entries, 64 MiB of manifest.
    public init(maxTotalBytes: Int64 = 64 << 30, maxFileBytes: Int64 = 8 << 30, maxEntries: Int = 1_000_000,
                maxManifestBytes: Int = 64 << 20) {
        self.maxTotalBytes = maxTotalBytes
        self.maxFileBytes = maxFileBytes
        self.maxEntries = maxEntries
        self.maxManifestBytes = maxManifestBytes
    }
}
