import ChartSyncCore
import ChartSyncIndex

/// One chart of the chart list against what its repository offers.
public struct OutdatedChart: Sendable, Equatable {
    /// The chart's name.
    public let name: String
    /// Its repository's URL (redacted).
    public let repository: String
    /// The constraint as written; nil: the newest stable version.
    public let constraint: String?
    /// The version versions.lock records; nil when the chart is not locked yet.
    public let locked: String?
    /// The newest version the constraint admits ("wanted": what `pull` would take); nil when none.
    public let wanted: String?
    /// The newest version in the repository (prereleases only with `devel`); nil when none.
    public let latest: String?

    /// Whether the lock is behind: not locked, or a newer version is wanted or exists.
    public var behind: Bool {
        guard let locked else { return true }
        let lockedVersion = try? SemanticVersion(parsing: locked)
        for candidate in [wanted, latest].compactMap({ $0 }) where candidate != locked {
            guard let lockedVersion, let other = try? SemanticVersion(parsing: candidate) else { return true }
            if lockedVersion < other { return true }
        }
        return false
    }
}

/// `chartsync outdated`: every chart of the chart list with its locked version, the newest its
/// constraint admits and the newest there is, for index and OCI repositories alike (one index
/// fetch per repository, one tag list per OCI chart). Reads; never writes.
public struct OutdatedChecker: Sendable {
    private let layout: ProjectLayout
    private let puller: Puller

    /// A checker for the project at `layout`, asking repositories through `puller`'s clients.
    public init(layout: ProjectLayout, puller: Puller) {
        self.layout = layout
        self.puller = puller
    }

    /// The charts in chart-list order.
    public func check(_ list: ChartList, options: PullOptions) throws -> [OutdatedChart] {
        let lock: Lockfile?
        do {
            lock = try LockfileReader.read(layout.lock)
        } catch {
            throw PullError.invalidInput(error.description)
        }
        let available = try puller.availableVersions(list, options: options)
        return list.charts.map { chart in
            OutdatedChart(name: chart.name, repository: RepositoryURL.redacted(list.repository(of: chart)?.url ?? ""),
                          constraint: chart.version, locked: lock?.entry(named: chart.name)?.version,
                          wanted: available[chart.name]?.wanted?.version, latest: available[chart.name]?.latest?.version)
        }
    }
}
