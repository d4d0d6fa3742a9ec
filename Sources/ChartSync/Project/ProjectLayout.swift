import ChartSyncCore
import ChartSyncIndex
import Glibc

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
        guard FileSystem.isRegularFile(lock) else {
            throw LockProblem(message: "\(lock) is missing (or not a regular file); run chartsync pull first")
        }
        let list = try ChartListReader.read(path: chartList)
        let parsed: Lockfile
        do {
            parsed = try LockfileCoding.parse(try FileSystem.readFile(lock), source: lock)
        } catch let error as YAMLError {
            throw LockProblem(message: "\(error.source): line \(error.line): \(error.message)")
        }
        let stale = TreeVerifier.lockFindings(list, lock: parsed, listName: FileSystem.baseName(chartList))
        guard stale.isEmpty else {
            throw LockProblem(message: "\(lock) does not match \(chartList); run chartsync pull first:\n  "
                              + stale.map(\.description).joined(separator: "\n  "))
        }
        return (list, parsed)
    }

    /// Refuses symbolic links where chartsync writes, and creates charts/external when missing.
    func prepare() throws(PullError) {
        for path in [charts, external, lock] where FileSystem.isSymlink(path) {
            throw .symlink(path: path)
        }
        for path in [charts, external] where !FileSystem.isDirectory(path) {
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
                throw .fileSystem(FileSystemError(path: path, message: "cannot create: \(FileSystem.reason())"))
            }
        }
    }
}

/// An exclusive, non-blocking lock on a directory (flock), held until released or the process ends.
final class DirectoryLock {
    private let fd: Int32

    /// Takes the lock or throws `.locked`.
    init(_ path: String) throws(PullError) {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileSystem(FileSystemError(path: path, message: "cannot open: \(FileSystem.reason())")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = FileSystem.reason()
            close(fd)
            if busy { throw .locked(path: path) }
            throw .fileSystem(FileSystemError(path: path, message: "cannot lock: \(reason)"))
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
