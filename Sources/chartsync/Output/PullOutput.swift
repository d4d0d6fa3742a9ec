import ChartSync
import ChartSyncCore

/// Rendering a pull's summary.
enum PullOutput {
    /// One locked chart in the `--json` summary.
    struct Chart: Encodable {
        /// The chart's name.
        let name: String
        /// The locked version.
        let version: String
        /// The tarball's digest.
        let sha256: String
        /// The tarball's size in bytes.
        let size: Int64
        /// The version it replaced, for an update.
        let from: String?
    }

    /// The `--json` summary.
    struct Summary: Encodable {
        /// Charts vendored for the first time.
        let added: [Chart]
        /// Charts replaced by another version (or repaired).
        let updated: [Chart]
        /// Charts already in place.
        let unchanged: [Chart]
        /// Paths removed from charts/external.
        let removed: [String]
        /// Paths in charts/external that versions.lock does not list.
        let unlisted: [String]
        /// Whether versions.lock was written.
        let lockWritten: Bool
        /// Bytes downloaded.
        let downloadedBytes: Int64
    }

    /// A lock entry as a summary chart (`from`: the version it replaced).
    static func chart(_ e: Lockfile.Entry, from: String? = nil) -> Chart {
        Chart(name: e.name, version: e.version, sha256: e.sha256.prefixed, size: e.size, from: from)
    }

    /// The `--json` summary of a pull.
    static func json(_ r: PullReport) throws -> String {
        let summary = Summary(added: r.added.map { chart($0) }, updated: r.updated.map { chart($0.to, from: $0.from.version) },
                              unchanged: r.unchanged.map { chart($0) }, removed: r.removed, unlisted: r.unlisted,
                              lockWritten: r.lockWritten, downloadedBytes: r.downloadedBytes)
        return try JSONOutput.encode(summary)
    }

    /// The human summary: one line per chart or path, then a total.
    static func text(_ r: PullReport) -> String {
        var lines: [String] = []
        for e in r.added { lines.append("added      \(e.name) \(e.version)") }
        for (from, to) in r.updated {
            lines.append(from.version == to.version ? "repaired   \(to.name) \(to.version)" : "updated    \(to.name) \(from.version) -> \(to.version)")
        }
        for e in r.unchanged { lines.append("unchanged  \(e.name) \(e.version)") }
        for p in r.removed { lines.append("removed    \(p)") }
        for p in r.unlisted { lines.append("unlisted   \(p) (not in versions.lock; --prune removes it)") }
        lines.append("versions.lock " + (r.lockWritten ? "written" : "unchanged")
                     + "; \(r.added.count) added, \(r.updated.count) updated, \(r.unchanged.count) unchanged, \(r.removed.count) removed")
        return lines.joined(separator: "\n")
    }
}
