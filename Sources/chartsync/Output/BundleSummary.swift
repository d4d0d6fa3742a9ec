import ChartSync

/// `bundle`'s result: the `--json` document, and the text lines without it.
struct BundleSummary: Encodable {
    /// One written file of the bundle.
    struct Part: Encodable {
        /// The part's path.
        let file: String
        /// Its size in bytes.
        let size: Int64
        /// Its digest (`sha256:...`).
        let sha256: String
    }

    /// The bundle's name.
    let name: String
    /// The delivery's sequence number.
    let sequence: Int64
    /// Charts carried.
    let charts: Int
    /// Payload files.
    let files: Int
    /// Payload bytes.
    let payloadBytes: Int64
    /// The files written.
    let parts: [Part]
    /// The digest of the whole bundle.
    let sha256: String
    /// The FILE.sha256 sidecar's path.
    let sidecar: String
    /// The signing key's fingerprint, when signed.
    let signer: String?
    /// For a delta: the delivery it applies to, and what it carries of the full delivery.
    let delta: Delta?

    /// A delta's base and what it carries.
    struct Delta: Encodable {
        /// `sha256:` of the base delivery's installed manifest.
        let baseManifest: String
        /// The base delivery's name and sequence.
        let baseName: String
        let baseSequence: Int64
        /// Files and bytes the delta carries (the others come from the site's installed base).
        let carriedFiles: Int
        let carriedBytes: Int64
    }

    /// The document for a pack's report.
    init(_ r: PackReport) {
        name = r.manifest.name
        sequence = r.manifest.sequence
        charts = r.manifest.charts.count
        files = r.manifest.files.count
        payloadBytes = r.manifest.payloadBytes
        parts = r.parts.map { Part(file: $0.file, size: $0.size, sha256: $0.sha256.prefixed) }
        sha256 = r.sha256.prefixed
        sidecar = r.sidecar
        signer = r.signer
        delta = r.manifest.base.map { base in
            Delta(baseManifest: base.manifest.prefixed, baseName: base.name, baseSequence: base.sequence,
                  carriedFiles: r.manifest.carried.count, carriedBytes: r.manifest.carried.reduce(0) { $0 + $1.size })
        }
    }

    /// The human report: each part with its size and digest, then a summary line.
    static func lines(_ report: PackReport) -> [String] {
        report.parts.map { "\($0.file)  \($0.size) bytes  sha256:\($0.sha256.hex)" }
            + ["\(report.manifest.charts.count) chart(s), \(report.manifest.files.count) file(s), \(report.manifest.payloadBytes) payload bytes"
                + (report.signer.map { "; signed by \($0)" } ?? "; not signed") + "; sidecar \(report.sidecar)"]
            + (report.manifest.base.map { base in
                let carried = report.manifest.carried
                return ["delta onto \"\(base.name)\" #\(base.sequence) (\(base.manifest.prefixed)): carries \(carried.count) file(s), "
                        + "\(carried.reduce(0) { $0 + $1.size }) bytes; the other \(report.manifest.files.count - carried.count) come from the site"]
            }.map { $0 } ?? [])
    }
}
