import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncTransport
import Foundation

/// `chartsync search`: the versions of a chart in a repository that satisfy a constraint.
struct SearchCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "List the versions of a chart in a repository that satisfy a version constraint.",
        discussion: "Versions are resolved as Helm resolves them (Masterminds/semver v3), newest first."
    )

    /// The repository URL or local folder.
    @Option(name: .customLong("repo"), help: "Repository URL (http://, https://, file://) or a local folder.")
    var repository: String

    /// The chart's name.
    @Argument(help: "The chart's name.")
    var chart: String

    /// The version constraint; the newest stable version when nil.
    @Option(name: .customLong("version"), help: "Version constraint, e.g. '^1.2', '~1.2.3', '>=1.0 <2.0'.")
    var constraint: String?

    /// List every matching version.
    @Flag(name: .customLong("versions"), help: "List every matching version, not only the newest.")
    var allVersions = false

    /// Include prerelease versions.
    @Flag(name: .customLong("devel"), help: "Include prerelease versions.")
    var devel = false

    /// `--json`: a JSON array.
    @OptionGroup var format: OutputOptions

    /// `-v/--verbose`.
    @OptionGroup var steps: VerboseOptions

    /// How the repository is reached.
    @OptionGroup var transport: TransportFlags

    /// `--credentials-file` (else CHARTSYNC_USERNAME/PASSWORD or CHARTSYNC_TOKEN).
    @OptionGroup var access: CredentialsOptions

    /// Plain HTTP to an `oci://` registry on a trusted network.
    @Flag(name: .customLong("plain-http"), help: "Talk plain HTTP to an oci:// registry (a registry on a trusted network).")
    var plainHTTP = false

    /// Checks the chart name and the constraint.
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

    /// Searches the repository and prints the matches.
    func run() throws {
        var parsed: VersionConstraint?
        if let constraint { parsed = try VersionConstraint(parsing: constraint) }
        let query = SearchQuery(
            repository: RepositoryLocation.url(from: repository, currentDirectory: FileManager.default.currentDirectoryPath),
            chart: chart,
            constraint: parsed,
            includePrerelease: devel,
            allVersions: allVersions,
            credentials: try access.credentials())
        let client = CurlHTTPClient(options: transport.options,
                                    onEvent: Terminal.transportHandler(verbose: steps.verbose))
        var registryClient: RegistryClient?
        if let (registry, _) = RepositoryURL.ociLocation(query.repository) {
            // Credentials: the options, else what `helm registry login` / `docker login` stored.
            var credentials = query.credentials
            if credentials == nil {
                do {
                    credentials = try RegistryConfigCredentials.load(environment: ProcessInfo.processInfo.environment)[registry]
                } catch {
                    throw Failure(code: .usage, message: error.description)
                }
            }
            let endpoint = RegistryEndpoint(plainHTTP: plainHTTP, credentials: credentials, transport: transport.options)
            registryClient = RegistryClient(endpoints: [registry: endpoint], defaultEndpoint: endpoint,
                                            onEvent: Terminal.transportHandler(verbose: steps.verbose))
        } else if plainHTTP {
            throw Failure(code: .usage, message: "--plain-http is for oci:// repositories")
        }
        let searcher = Searcher(client: client, onEvent: Terminal.eventHandler(verbose: steps.verbose),
                                registryClient: registryClient)
        let results: [SearchResult]
        do {
            results = try searcher.search(query)
        } catch {
            throw Failure(code: .ioFailure, message: String(describing: error))
        }
        if format.json {
            Terminal.output(try SearchOutput.json(results))
        } else if results.isEmpty {
            Terminal.note("no version of chart \"\(chart)\" matches \(constraint.map { "\"\($0)\"" } ?? "(newest stable)") in \(RepositoryURL.redacted(query.repository))")
        } else {
            Terminal.output(SearchOutput.table(results))
        }
    }
}
