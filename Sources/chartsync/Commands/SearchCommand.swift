import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncTransport
import Foundation

/// `chartsync search`: the versions of a chart in a repository that satisfy a constraint.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "List the versions of a chart in a repository that satisfy a version constraint.",
        discussion: "Versions are resolved as Helm resolves them (Masterminds/semver v3), newest first."
    )

    @Option(name: .customLong("repo"), help: "Repository URL (http://, https://, file://) or a local folder.")
    var repository: String

    @Argument(help: "The chart's name.")
    var chart: String

    @Option(name: .customLong("version"), help: "Version constraint, e.g. '^1.2', '~1.2.3', '>=1.0 <2.0'.")
    var constraint: String?

    @Flag(name: .customLong("versions"), help: "List every matching version, not only the newest.")
    var allVersions = false

    @Flag(name: .customLong("devel"), help: "Include prerelease versions.")
    var devel = false

    @Flag(name: .customLong("json"), help: "Print a JSON array.")
    var json = false

    @Flag(name: .shortAndLong, help: "Show progress on stderr.")
    var verbose = false

    @OptionGroup var transport: TransportFlags

    func validate() throws {
        guard ChartName.isValid(chart) else { throw ValidationError("\"\(chart)\" is not a valid chart name") }
        if let constraint {
            do {
                _ = try VersionConstraint(parsing: constraint)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    func run() throws {
        var parsed: VersionConstraint?
        if let constraint { parsed = try VersionConstraint(parsing: constraint) }
        let query = SearchQuery(
            repository: RepositoryLocation.url(from: repository, currentDirectory: FileManager.default.currentDirectoryPath),
            chart: chart,
            constraint: parsed,
            includePrerelease: devel,
            allVersions: allVersions,
            credentials: try transport.credentials())
        let client = CurlHTTPClient(options: transport.options,
                                    onEvent: Terminal.transportHandler(verbose: verbose))
        let searcher = Searcher(client: client, onEvent: Terminal.eventHandler(verbose: verbose))
        let results: [SearchResult]
        do {
            results = try searcher.search(query)
        } catch {
            throw Failure(code: .ioFailure, message: String(describing: error))
        }
        if json {
            Terminal.output(try SearchOutput.json(results))
        } else if results.isEmpty {
            Terminal.note("no version of chart \"\(chart)\" matches \(constraint.map { "\"\($0)\"" } ?? "(newest stable)") in \(RepositoryURL.redacted(query.repository))")
        } else {
            Terminal.output(SearchOutput.table(results))
        }
    }
}

/// Rendering search results.
enum SearchOutput {
    /// One JSON object per result; keys sorted; stable for machines.
    struct Item: Encodable {
        let name: String
        let version: String
        let appVersion: String?
        let description: String?
        let digest: String?
        let urls: [String]
        let created: String?
        let deprecated: Bool
    }

    static func json(_ results: [SearchResult]) throws -> String {
        guard !results.isEmpty else { return "[]" }
        let items = results.map { r in
            Item(name: r.version.name, version: r.version.version, appVersion: r.version.appVersion,
                 description: r.version.description,
                 digest: r.version.digest?.prefixed ?? r.version.digestText,
                 urls: r.downloadURLs, created: r.version.created, deprecated: r.version.deprecated)
        }
        return try JSONOutput.encode(items)
    }

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
