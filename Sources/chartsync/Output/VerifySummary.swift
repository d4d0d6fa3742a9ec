import ChartSync

/// `verify BUNDLE`'s result: the `--json` document, and the text lines without it.
struct VerifySummary: Encodable {
    /// The bundle's name.
    let name: String
    /// The delivery's sequence number.
    let sequence: Int64
    /// Charts carried.
    let charts: Int
    /// Payload files.
    let files: Int
    /// The files read.
    let parts: [String]
    /// The signing key's fingerprint, when signed.
    let signer: String?
    /// Whether the signature was checked against a trusted key.
    let signatureVerified: Bool
    /// Where the payload was extracted, if it was.
    let extractedTo: String?

    /// The document for a bundle's verification.
    init(_ r: BundleVerification) {
        name = r.manifest.name
        sequence = r.manifest.sequence
        charts = r.manifest.charts.count
        files = r.manifest.files.count
        parts = r.parts
        signer = r.signer
        signatureVerified = r.signatureVerified
        extractedTo = r.extractedTo
    }

    /// The human report: what was verified, its signature and where it was extracted.
    static func lines(_ result: BundleVerification) -> [String] {
        var lines = [
            "verified \(result.parts.count == 1 ? result.parts[0] : "\(result.parts.count) parts of " + result.parts[0])",
            "  \(result.manifest.name) #\(result.manifest.sequence): \(result.manifest.charts.count) chart(s), \(result.manifest.files.count) file(s)",
            "  signature: " + (result.signatureVerified ? "valid, by \(result.signer ?? "?")" : result.signer.map { "present (by \($0)), not checked: no --trusted-key" } ?? "none"),
        ]
        if let to = result.extractedTo { lines.append("  extracted to \(to)") }
        return lines
    }
}
