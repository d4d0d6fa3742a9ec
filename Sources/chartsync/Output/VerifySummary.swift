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
    /// What the extraction did to the site, when extracted.
    let site: Site?
    /// For a delta: the delivery it applies to, and how many of its files it carries.
    let delta: Delta?

    /// A delta's base and what it carries (the other files are proven from the site with --extract).
    struct Delta: Encodable {
        /// `sha256:` of the base delivery's installed manifest.
        let baseManifest: String
        /// The base delivery's name.
        let baseName: String
        /// The base delivery's sequence number.
        let baseSequence: Int64
        /// Files the delta carries (proven from the bundle).
        let carriedFiles: Int
        /// Files taken from the site's installed base.
        let baseFiles: Int
    }

    /// `verify --extract`'s effect on the site directory.
    struct Site: Encodable {
        /// The delivery installed before (`name #sequence`), nil when the directory was new or empty.
        let previous: String?
        /// The same delivery was installed already; nothing changed.
        let alreadyInstalled: Bool
        /// Charts added (`name version`).
        let added: [String]
        /// Charts updated (`name old -> new`).
        let updated: [String]
        /// Charts removed (`name version`).
        let removed: [String]

        /// The site part of the document.
        init(_ installation: SiteInstallation) {
            previous = installation.previous.map { "\($0.name) #\($0.sequence)" }
            alreadyInstalled = installation.alreadyInstalled
            added = installation.changes.added.map { "\($0.name) \($0.version)" }
            updated = installation.changes.updated.map { "\($0.from.name) \($0.from.version) -> \($0.to.version)" }
            removed = installation.changes.removed.map { "\($0.name) \($0.version)" }
        }
    }

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
        site = r.installation.map(Site.init)
        delta = r.manifest.base.map { base in
            Delta(baseManifest: base.manifest.prefixed, baseName: base.name, baseSequence: base.sequence,
                  carriedFiles: r.manifest.carried.count, baseFiles: r.manifest.files.count - r.manifest.carried.count)
        }
    }

    /// The human report: what was verified, its signature and where it was extracted.
    static func lines(_ result: BundleVerification) -> [String] {
        var lines = [
            "verified \(result.parts.count == 1 ? result.parts[0] : "\(result.parts.count) parts of " + result.parts[0])",
            "  \(result.manifest.name) #\(result.manifest.sequence): \(result.manifest.charts.count) chart(s), \(result.manifest.files.count) file(s)",
            "  signature: " + (result.signatureVerified ? "valid, by \(result.signer ?? "?")" : result.signer.map { "present (by \($0)), not checked: no --trusted-key" } ?? "none"),
        ]
        if let base = result.manifest.base {
            let carried = result.manifest.carried.count
            lines.append("  delta onto \"\(base.name)\" #\(base.sequence) (\(base.manifest.prefixed)): \(carried) file(s) carried and proven; "
                         + (result.extractedTo == nil ? "the other \(result.manifest.files.count - carried) are proven against the site with --extract"
                                                      : "the other \(result.manifest.files.count - carried) proven from the site's installed files"))
        }
        guard let to = result.extractedTo, let installation = result.installation else { return lines }
        if installation.alreadyInstalled {
            lines.append("  already installed in \(to); nothing changed")
            return lines
        }
        let site = Site(installation)
        lines.append("  extracted to \(to)" + (site.previous.map { " (replacing \($0))" } ?? ""))
        for chart in site.added { lines.append("  added    \(chart)") }
        for chart in site.updated { lines.append("  updated  \(chart)") }
        for chart in site.removed { lines.append("  removed  \(chart)") }
        return lines
    }
}
