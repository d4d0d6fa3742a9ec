import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// What to look for in a repository.
public struct SearchQuery: Sendable {
    /// The repository URL (`http://`, `https://` or `file://`).
    public var repository: String
    /// The chart's name.
    public var chart: String
    /// The version constraint; nil means Helm's default (`*`, stable versions only).
    public var constraint: VersionConstraint?
    /// Helm's `--devel`: prereleases match too.
    public var includePrerelease: Bool
    /// Every matching version instead of only the newest.
    public var allVersions: Bool
    /// Credentials for the repository's host.
    public var credentials: Credentials?

    /// Creates a query.
    public init(repository: String, chart: String, constraint: VersionConstraint? = nil,
                includePrerelease: Bool = false, allVersions: Bool = false, credentials: Credentials? = nil) {
        self.repository = repository
        self.chart = chart
        self.constraint = constraint
        self.includePrerelease = includePrerelease
        self.allVersions = allVersions
        self.credentials = credentials
    }
}

/// One chart version found by a search, with its download URLs resolved against the repository.
public struct SearchResult: Sendable {
    /// The entry as the index gives it.
    public let version: ChartVersion
    /// Absolute download URLs, credentials removed.
    public let downloadURLs: [String]
    /// For an `oci://` repository: the digest of the manifest the version's tag names now.
    public var manifest: String? = nil
}

/// Lists the versions of a chart in a repository that satisfy a constraint, newest first,
/// as Helm resolves them.
public struct Searcher: Sendable {
    private let client: any HTTPClient
    private let onEvent: ChartSyncEventHandler?
    private let maxIndexBytes: Int64
    /// Asks `oci://` repositories (their tags, and each result's manifest digest).
    private let registryClient: RegistryClient?

    /// Creates a searcher; indexes larger than `maxIndexBytes` are refused.
    public init(client: any HTTPClient, maxIndexBytes: Int64 = 512 << 20, onEvent: ChartSyncEventHandler? = nil,
                registryClient: RegistryClient? = nil) {
        self.registryClient = registryClient
        self.client = client
        self.onEvent = onEvent
        self.maxIndexBytes = maxIndexBytes
    }

    /// Fetches the repository's index and returns the matching versions (only the best one unless
    /// `allVersions`); empty when the chart is absent or nothing matches.
    public func search(_ query: SearchQuery) throws -> [SearchResult] {
        if RepositoryURL.ociLocation(query.repository) != nil { return try searchRegistry(query) }
        let index = try IndexFetcher(client: client, onEvent: onEvent, maxIndexBytes: maxIndexBytes)
            .fetch(repository: query.repository, credentials: query.credentials, charts: [query.chart])
        let versions: [ChartVersion]
        if query.allVersions {
            versions = index.versions(of: query.chart, matching: query.constraint, includePrerelease: query.includePrerelease)
        } else {
            versions = index.best(of: query.chart, matching: query.constraint, includePrerelease: query.includePrerelease).map { [$0] } ?? []
        }
        return versions.map { v in
            SearchResult(version: v, downloadURLs: v.urls.map {
                RepositoryURL.redacted(RepositoryURL.resolve(base: query.repository, reference: $0))
            })
        }
    }

    /// An `oci://HOST/PATH` repository: the tags of `PATH/CHART` read as versions (Helm's rules;
    /// a constraint that is itself a version names only its own tag), each result with the digest
    /// of the manifest its tag names.
    private func searchRegistry(_ query: SearchQuery) throws -> [SearchResult] {
        let client = registryClient ?? RegistryClient()
        let (registry, path) = RepositoryURL.ociLocation(query.repository) ?? ("", "")
        let repository = path.isEmpty ? query.chart : path + "/" + query.chart
        let tags = try client.tags(repository: repository, registry: registry)
        let index = IndexFile.tags(tags, of: query.chart, repository: "oci://\(registry)/\(repository)",
                                   version: query.constraint?.text)
        let versions: [ChartVersion]
        if query.allVersions {
            versions = index.versions(of: query.chart, matching: query.constraint, includePrerelease: query.includePrerelease)
        } else {
            versions = index.best(of: query.chart, matching: query.constraint, includePrerelease: query.includePrerelease).map { [$0] } ?? []
        }
        return try versions.map { v in
            let tag = OCITag.of(v.version)
            let manifest = try client.manifest(registry: registry, repository: repository, reference: tag)
            var result = SearchResult(version: v, downloadURLs: v.urls)
            result.manifest = manifest.digest
            return result
        }
    }
}
