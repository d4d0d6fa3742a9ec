/// versions.lock: exactly what is vendored, with the digests that prove it.
public struct Lockfile: Sendable, Equatable {
    /// One vendored chart.
    public struct Entry: Sendable, Equatable {
        /// The chart's name.
        public var name: String
        /// The resolved version, as the index writes it.
        public var version: String
        /// The constraint it was resolved from, as written in the chart list (nil: newest stable).
        public var constraint: String?
        /// The repository URL as written in the chart list (credentials removed).
        public var repository: String
        /// The download URL (resolved against `repository`, credentials removed); for a chart of an
        /// OCI registry `oci://HOST/PATH/NAME:TAG` (TAG is the version with `+` as `_`).
        public var url: String
        /// SHA-256 of the tarball.
        public var sha256: Digest
        /// Size of the tarball in bytes.
        public var size: Int64
        /// Tree digest of the unpacked directory, when the chart is kept unpacked.
        public var tree: Digest?
        /// The digest of the OCI manifest the chart was taken from (charts of `oci://` repositories only).
        public var manifest: Digest?

        /// Creates an entry.
        public init(name: String, version: String, constraint: String?, repository: String, url: String,
                    sha256: Digest, size: Int64, tree: Digest? = nil, manifest: Digest? = nil) {
            self.name = name
            self.version = version
            self.constraint = constraint
            self.repository = repository
            self.url = url
            self.sha256 = sha256
            self.size = size
            self.tree = tree
            self.manifest = manifest
        }

        /// Whether the chart comes from an OCI registry (its url is `oci://`).
        public var isOCI: Bool { url.lowercased().hasPrefix("oci://") }

        /// The tarball's file name in charts/external.
        public var fileName: String { "\(name)-\(version).tgz" }

        /// The unpacked directory's name in charts/external (helmfile's `<name>-v<version>` layout).
        public var directoryName: String { "\(name)-v\(version)" }
    }

    /// SHA-256 of the chart list's canonical text when the lock was written.
    public var chartList: Digest
    /// The charts, sorted by name.
    public var entries: [Entry]

    /// Creates a lock; entries are sorted by name.
    public init(chartList: Digest, entries: [Entry]) {
        self.chartList = chartList
        self.entries = entries.sorted { $0.name < $1.name }
    }

    /// The entry for a chart.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}
