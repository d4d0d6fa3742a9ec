import ChartSync

/// `bundle`'s result: the `--json` document, and the text lines without it.
struct BundleSummary: Encodable {
    /// One written file of the bundle.
    struct Part: Encodable {
        let file: String
        let size: Int64
        let sha256: String
    }

    let name: String
    let sequence: Int64
    let charts: Int
    let files: Int
    let payloadBytes: Int64
    let parts: [Part]
    let sha256: String
    let sidecar: String
    let signer: String?

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
    }

    /// The human report: each part with its size and digest, then a summary line.
    static func lines(_ report: PackReport) -> [String] {
        report.parts.map { "\($0.file)  \($0.size) bytes  sha256:\($0.sha256.hex)" }
            + ["\(report.manifest.charts.count) chart(s), \(report.manifest.files.count) file(s), \(report.manifest.payloadBytes) payload bytes"
                + (report.signer.map { "; signed by \($0)" } ?? "; not signed") + "; sidecar \(report.sidecar)"]
    }
}
