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
}

/// Lists the versions of a chart in a repository that satisfy a constraint, newest first,
/// as Helm resolves them.
public struct Searcher: Sendable {
    private let client: any HTTPClient
    private let onEvent: ChartSyncEventHandler?
    private let maxIndexBytes: Int64

    /// Creates a searcher; indexes larger than `maxIndexBytes` are refused.
    public init(client: any HTTPClient, maxIndexBytes: Int64 = 512 << 20, onEvent: ChartSyncEventHandler? = nil) {
        self.client = client
        self.onEvent = onEvent
        self.maxIndexBytes = maxIndexBytes
    }

    /// Fetches the repository's index and returns the matching versions (only the best one unless
    /// `allVersions`); empty when the chart is absent or nothing matches.
    public func search(_ query: SearchQuery) throws -> [SearchResult] {
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
}
