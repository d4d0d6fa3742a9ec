import ChartSyncCore

/// `inspect`'s result: the `--json` document, and the text lines without it.
struct InspectSummary: Encodable {
    /// One chart the bundle carries.
    struct Chart: Encodable {
        /// The chart's name.
        let name: String
        /// Its version.
        let version: String
        /// Its tarball's digest.
        let sha256: String
    }

    /// One payload file.
    struct File: Encodable {
        /// The path inside the payload.
        let path: String
        /// Its size in bytes.
        let size: Int64
        /// Its digest.
        let sha256: String
        /// `0644` or `0755`.
        let mode: String
        /// In a delta: the bundle does not carry the file; the site's installed base provides it.
        let inBase: Bool
    }

    /// What a delta applies to: the delivery a site must have installed.
    struct Base: Encodable {
        /// `sha256:` of the base delivery's installed manifest (what the site records).
        let manifest: String
        /// The base delivery's name.
        let name: String
        /// The base delivery's sequence number.
        let sequence: Int64
    }

    /// One image of the bundle's image store.
    struct StoredImage: Encodable {
        /// The reference index.json names it by.
        let reference: String
        /// The manifest or index digest.
        let digest: String
        /// The bytes of its blobs (manifests included).
        let size: Int64
        /// The platforms an index carries; empty for a single manifest.
        let platforms: [String]
    }

    /// The bundle's name.
    let name: String
    /// The delivery's sequence number.
    let sequence: Int64
    /// The chartsync that wrote it.
    let chartsyncVersion: String
    /// The signing key's fingerprint, when signed.
    let signer: String?
    /// The bundle's files.
    let parts: [String]
    /// The charts carried.
    let charts: [Chart]
    /// The images images.lock lists.
    let images: [String]
    /// The images the bundle's image store carries, with their sizes and platforms.
    let storedImages: [StoredImage]
    /// Every file of the delivery (a delta carries those not `inBase`).
    let files: [File]
    /// For a delta: the delivery it applies to; absent for a full bundle.
    let base: Base?

    /// The document for a bundle's manifest, signer and parts.
    init(manifest: BundleManifest, signer: String?, parts: [String]) {
        images = manifest.images
        storedImages = manifest.storedImages.map {
            StoredImage(reference: $0.reference, digest: $0.digest, size: $0.size, platforms: $0.platforms)
        }
        name = manifest.name
        sequence = manifest.sequence
        chartsyncVersion = manifest.chartsyncVersion
        self.signer = signer
        self.parts = parts
        charts = manifest.charts.map { Chart(name: $0.name, version: $0.version, sha256: $0.sha256.prefixed) }
        files = manifest.files.map { File(path: $0.path, size: $0.size, sha256: $0.sha256.prefixed, mode: $0.executable ? "0755" : "0644",
                                         inBase: $0.inBase) }
        base = manifest.base.map { Base(manifest: $0.manifest.prefixed, name: $0.name, sequence: $0.sequence) }
    }

    /// The human report: name, parts, signer, payload, charts and images.
    static func lines(manifest: BundleManifest, signer: String?, parts: [String]) -> [String] {
        var lines = [
            "bundle:    \(manifest.name) #\(manifest.sequence) (chartsync \(manifest.chartsyncVersion))",
            "parts:     \(parts.count)",
            "signer:    \(signer ?? "not signed")",
            "payload:   \(manifest.files.count) file(s), \(manifest.payloadBytes) bytes",
        ]
        if let base = manifest.base {
            let carried = manifest.carried
            lines.append("delta:     onto \"\(base.name)\" #\(base.sequence) (\(base.manifest.prefixed)); carries \(carried.count) file(s), "
                         + "\(carried.reduce(0) { $0 + $1.size }) bytes")
        }
        lines.append("charts:")
        lines += manifest.charts.map { "  \($0.name) \($0.version)  sha256:\($0.sha256.hex)" }
        if !manifest.images.isEmpty {
            lines.append("images (images.lock):")
            lines += manifest.images.map { "  \($0)" }
        }
        if !manifest.storedImages.isEmpty {
            let total = manifest.files.filter { $0.path.hasPrefix("images/") }.reduce(Int64(0)) { $0 + $1.size }
            lines.append("images (stored, \(total) bytes):")
            lines += manifest.storedImages.map { image in
                let platforms = image.platforms.isEmpty ? "" : "  [" + image.platforms.joined(separator: ", ") + "]"
                return "  \(image.reference)  \(image.digest)  \(image.size) bytes" + platforms
            }
        }
        return lines
    }
}
