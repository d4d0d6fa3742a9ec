import ChartSync
import Foundation

/// Rendering search results.
enum SearchOutput {
    /// One JSON object per result; keys sorted; stable for machines.
    struct Item: Encodable {
        /// The chart's name.
        let name: String
        /// The version.
        let version: String
        /// The app version, if any.
        let appVersion: String?
        /// The description, if any.
        let description: String?
        /// The digest the index gives, if any.
        let digest: String?
        /// The download URLs, resolved against the repository.
        let urls: [String]
        /// When it was created, as the index says.
        let created: String?
        /// Whether it is deprecated.
        let deprecated: Bool
        /// For an `oci://` repository: the manifest digest the version's tag names.
        let manifest: String?
    }

    /// The `--json` array of results.
    static func json(_ results: [SearchResult]) throws -> String {
        guard !results.isEmpty else { return "[]" }
        let items = results.map { r in
            Item(name: r.version.name, version: r.version.version, appVersion: r.version.appVersion,
                 description: r.version.description,
                 digest: r.version.digest?.prefixed ?? r.version.digestText,
                 urls: r.downloadURLs, created: r.version.created, deprecated: r.version.deprecated,
                 manifest: r.manifest)
        }
        return try JSONOutput.encode(items)
    }

    /// The human table: name, version, app version and description, columns aligned.
    static func table(_ results: [SearchResult]) -> String {
        var rows = [["NAME", "VERSION", "APP VERSION", "DESCRIPTION"]]
        for r in results {
            rows.append([r.version.name, r.version.version, r.version.appVersion ?? "",
                         (r.version.deprecated ? "DEPRECATED " : "") + (r.version.description ?? "")])
        }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[3]
        }.joined(separator: "\n")
    }
}
