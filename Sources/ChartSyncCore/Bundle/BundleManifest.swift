/// The bundle's table of contents: every payload file with its size, digest and mode, the
/// charts it carries, and the delivery's name and sequence number. No timestamps.
public struct BundleManifest: Sendable, Equatable {
    /// The format identifier written and required.
    public static let format = "chartsync-bundle/1"

    /// One payload file.
    public struct File: Sendable, Equatable {
        /// Path relative to the bundle's payload root (e.g. `charts/external/x-1.0.0.tgz`).
        public var path: String
        /// Size in bytes.
        public var size: Int64
        /// SHA-256 of the content.
        public var sha256: Digest
        /// Whether the file is executable (mode 0755, else 0644).
        public var executable: Bool
        /// In a delta: the bundle does not carry the file; the site's installed base has a file
        /// with the same content, which is taken from there (and proven again).
        public var inBase: Bool

        /// Creates a file entry.
        public init(path: String, size: Int64, sha256: Digest, executable: Bool = false, inBase: Bool = false) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.executable = executable
            self.inBase = inBase
        }
    }

    /// What a delta applies to: the delivery a site must have installed, named by the SHA-256 of
    /// its manifest's bytes.
    public struct Base: Sendable, Equatable {
        /// `sha256:` of the base delivery's manifest bytes.
        public var manifest: Digest
        /// The base delivery's name.
        public var name: String
        /// The base delivery's sequence number.
        public var sequence: Int64

        /// Creates a base.
        public init(manifest: Digest, name: String, sequence: Int64) {
            self.manifest = manifest
            self.name = name
            self.sequence = sequence
        }
    }

    /// One chart the bundle carries (from versions.lock).
    public struct Chart: Sendable, Equatable {
        /// The chart's name.
        public var name: String
        /// Its version.
        public var version: String
        /// The tarball's SHA-256.
        public var sha256: Digest

        /// Creates a chart entry.
        public init(name: String, version: String, sha256: Digest) {
            self.name = name
            self.version = version
            self.sha256 = sha256
        }
    }

    /// One image the bundle's image store (`images/`) carries, as its index.json names it.
    public struct StoredImage: Sendable, Equatable {
        /// The reference index.json names it by (`registry/repository:tag`).
        public var reference: String
        /// The digest of the manifest or index index.json points to.
        public var digest: String
        /// The bytes of every blob it needs (manifests included; shared blobs counted for each image).
        public var size: Int64
        /// The platforms an index carries (`os/architecture[/variant]`); empty for a single manifest.
        public var platforms: [String]

        /// Creates a stored image.
        public init(reference: String, digest: String, size: Int64, platforms: [String]) {
            self.reference = reference
            self.digest = digest
            self.size = size
            self.platforms = platforms
        }
    }

    /// The bundle's name (e.g. the site or release it is for).
    public var name: String
    /// A number the user raises with each delivery.
    public var sequence: Int64
    /// The chartsync version that wrote it.
    public var chartsyncVersion: String
    /// Charts, sorted by name.
    public var charts: [Chart]
    /// Files, sorted by path bytes.
    public var files: [File]
    /// The container images images.lock lists (as recorded there, pinned when resolved), sorted;
    /// empty when the bundle carries no images.lock.
    public var images: [String]
    /// The images of the bundle's image store (`images/index.json`), sorted by reference; empty
    /// when it carries none. `verify` proves them against the store.
    public var storedImages: [StoredImage]
    /// For a delta: the delivery it applies to; nil for a full delivery.
    public var base: Base?

    /// Creates a manifest; charts, files and images are sorted.
    public init(name: String, sequence: Int64, chartsyncVersion: String, charts: [Chart], files: [File], images: [String] = [],
                storedImages: [StoredImage] = [], base: Base? = nil) {
        self.name = name
        self.base = base
        self.storedImages = storedImages.sorted { $0.reference < $1.reference }
        self.sequence = sequence
        self.chartsyncVersion = chartsyncVersion
        self.images = images.sorted()
        self.charts = charts.sorted { $0.name < $1.name }
        self.files = files.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    /// The total size of the delivery's files.
    public var payloadBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    /// The files the bundle itself carries (all of them, but for a delta's `inBase` ones).
    public var carried: [File] { files.filter { !$0.inBase } }

    /// The delivery without its delta marks: what a site holds once it is installed, and what a
    /// full bundle of the same files would list.
    public var full: BundleManifest {
        var copy = self
        copy.base = nil
        copy.files = files.map { var file = $0; file.inBase = false; return file }
        return copy
    }

    /// The manifest as canonical JSON: fixed key order, one file per line, a final newline.
    public var json: String {
        func q(_ s: String) -> String { Quoting.json(s) }
        var out = "{\n"
        out += "  \"format\": \(q(BundleManifest.format)),\n"
        out += "  \"name\": \(q(name)),\n"
        out += "  \"sequence\": \(sequence),\n"
        out += "  \"chartsyncVersion\": \(q(chartsyncVersion)),\n"
        if let base {
            out += "  \"base\": {\"manifest\": \(q(base.manifest.prefixed)), \"name\": \(q(base.name)), \"sequence\": \(base.sequence)},\n"
        }
        out += "  \"charts\": ["
        out += charts.map { "\n    {\"name\": \(q($0.name)), \"version\": \(q($0.version)), \"sha256\": \(q($0.sha256.hex))}" }
            .joined(separator: ",")
        out += charts.isEmpty ? "],\n" : "\n  ],\n"
        if !images.isEmpty {
            out += "  \"images\": [" + images.map { "\n    " + q($0) }.joined(separator: ",") + "\n  ],\n"
        }
        if !storedImages.isEmpty {
            out += "  \"storedImages\": [" + storedImages.map {
                "\n    {\"reference\": \(q($0.reference)), \"digest\": \(q($0.digest)), \"size\": \($0.size), \"platforms\": ["
                    + $0.platforms.map(q).joined(separator: ", ") + "]}"
            }.joined(separator: ",") + "\n  ],\n"
        }
        out += "  \"files\": ["
        out += files.map {
            "\n    {\"path\": \(q($0.path)), \"size\": \($0.size), \"sha256\": \(q($0.sha256.hex)), \"mode\": \($0.executable ? "\"0755\"" : "\"0644\"")"
                + ($0.inBase ? ", \"inBase\": true}" : "}")
        }.joined(separator: ",")
        out += files.isEmpty ? "]\n" : "\n  ]\n"
        return out + "}\n"
    }
}
