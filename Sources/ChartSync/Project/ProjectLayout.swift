import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex

/// Where a project keeps its chart list, vendored charts and lock; all relative to one root.
public struct ProjectLayout: Sendable {
    /// The project directory (the chart list's directory).
    public let root: String
    /// The chart list, `chartsync.yaml` by default.
    public let chartList: String

    /// A layout for the chart list at `chartList`; the root is its directory.
    public init(chartList: String) {
        self.chartList = chartList
        root = FileSystem.parent(of: chartList)
    }

    /// `charts/` under the root.
    public var charts: String { root + "/charts" }
    /// `charts/external/`: the vendored upstream charts.
    public var external: String { charts + "/external" }
    /// `versions.lock`.
    public var lock: String { root + "/versions.lock" }

    /// Why versions.lock cannot be used as it is (missing, invalid, or not for this chart list).
    struct LockProblem: Error {
        let message: String
    }

    /// The chart list and versions.lock, the lock checked current for the list (what `bundle`
    /// and `images` build on). An invalid chart list throws its `ChartListError`.
    func currentLock() throws -> (ChartList, Lockfile) {
        let read: Lockfile?
        do {
            read = try LockfileReader.read(lock)
        } catch {
            throw LockProblem(message: error.description)
        }
        guard let parsed = read else {
            throw LockProblem(message: "\(lock) is missing (or empty); run chartsync pull first")
        }
        let list = try ChartListReader.read(path: chartList)
        let stale = LockfileCheck.findings(list, lock: parsed, listName: FileSystem.baseName(chartList))
        guard stale.isEmpty else {
            throw LockProblem(message: "\(lock) does not match \(chartList); run chartsync pull first:\n  "
                              + stale.map(\.description).joined(separator: "\n  "))
        }
        return (list, parsed)
    }

    /// Refuses symbolic links where chartsync writes, and creates charts/external when missing;
    /// returns the directories it created (for the caller to remove if it changes nothing).
    func prepare() throws(PullError) -> [String] {
        for path in [charts, external, lock] where FileSystem.isSymlink(path) {
            throw .symlink(path: path)
        }
        var created: [String] = []
        for path in [charts, external] where !FileSystem.isDirectory(path) {
            do {
                try FileSystem.makeDirectory(path)
            } catch {
                throw .fileSystem(error)
            }
            created.append(path)
        }
        return created
    }
}
