/// What a site directory holds, as `verify BUNDLE --extract DIR` records it in
/// `DIR/.chartsync/installed.json` (beside the proven manifest, `DIR/.chartsync/MANIFEST`): the
/// mark of a directory chartsync owns, and what the next delivery is compared with.
public struct InstalledDelivery: Sendable, Equatable {
    /// The format identifier written and required.
    public static let format = "chartsync-installed/1"

    /// The delivery's name (the bundle manifest's).
    public var name: String
    /// Its sequence number.
    public var sequence: Int64
    /// The SHA-256 of its manifest bytes (what `.chartsync/MANIFEST` must hash to).
    public var manifest: Digest
    /// The signer's key fingerprint, when the bundle was signed.
    public var signer: String?

    /// Creates a record.
    public init(name: String, sequence: Int64, manifest: Digest, signer: String?) {
        self.name = name
        self.sequence = sequence
        self.manifest = manifest
        self.signer = signer
    }

    /// The record as canonical JSON with a final newline.
    public var json: String {
        "{\n  \"format\": \(Quoting.json(InstalledDelivery.format)),\n  \"name\": \(Quoting.json(name)),\n"
            + "  \"sequence\": \(sequence),\n  \"manifest\": \(Quoting.json(manifest.prefixed)),\n"
            + "  \"signer\": \(signer.map(Quoting.json) ?? "null")\n}\n"
    }
}

/// What a delivery changes in a site's charts against what was installed.
public struct ChartChanges: Sendable, Equatable {
    /// Charts the site did not have.
    public var added: [BundleManifest.Chart] = []
    /// Charts whose version or content changes, old and new.
    public var updated: [(from: BundleManifest.Chart, to: BundleManifest.Chart)] = []
    /// Charts the delivery no longer carries.
    public var removed: [BundleManifest.Chart] = []
    /// Charts that stay as they are.
    public var unchanged: [BundleManifest.Chart] = []

    /// The changes from `old` (nil: nothing installed) to `new`.
    public init(from old: [BundleManifest.Chart]?, to new: [BundleManifest.Chart]) {
        let before = Dictionary((old ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let names = Set(new.map(\.name))
        for chart in new {
            if let was = before[chart.name] {
                if was == chart { unchanged.append(chart) } else { updated.append((was, chart)) }
            } else {
                added.append(chart)
            }
        }
        removed = (old ?? []).filter { !names.contains($0.name) }
    }

    public static func == (lhs: ChartChanges, rhs: ChartChanges) -> Bool {
        lhs.added == rhs.added && lhs.removed == rhs.removed && lhs.unchanged == rhs.unchanged
            && lhs.updated.map(\.from) == rhs.updated.map(\.from) && lhs.updated.map(\.to) == rhs.updated.map(\.to)
    }
}
