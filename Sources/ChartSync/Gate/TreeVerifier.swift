import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex

/// One versions.lock entry and whether everything of it checked out.
public struct TreeChartResult: Sendable {
    /// The chart's name.
    public let name: String
    /// The locked version.
    public let version: String
    /// The tarball, relative to the project root.
    public let file: String
    /// The unpacked directory, when the chart is kept unpacked.
    public let directory: String?
    /// No finding names this chart.
    public let passed: Bool
}

/// What the working-tree gate found.
public struct TreeVerification: Sendable {
    /// The project root.
    public let root: String
    /// The chart list's file name (relative to the root).
    public let chartList: String
    /// Every versions.lock entry, sorted by name.
    public let charts: [TreeChartResult]
    /// Regular files hashed.
    public let files: Int
    /// Bytes hashed.
    public let bytes: Int64
    /// Every problem, sorted by file.
    public let findings: [TreeFinding]
    /// Warnings (templates not evaluated, remote files not read), sorted by file: reported, never a failure.
    public var warnings: [TreeFinding] = []
    /// The helmfile checked (relative to the root); nil when there is none.
    public var helmfile: String?
    /// Every helmfile file read, relative to the root, in the order read.
    public var helmfileFiles: [String] = []
    /// Releases whose chart was checked.
    public var releases = 0
    /// images.lock was compared (it exists, or the chart list has an images section, and the charts were proven).
    public var imagesChecked = false
    /// images.lock would have been compared, but the charts failed (its truth comes from them).
    public var imagesSkipped = false
    /// The image store (`images/`) was checked against images.lock (it exists).
    public var storeChecked = false

    /// Nothing was found.
    public var passed: Bool { findings.isEmpty }

    /// How to report a failed gate: verification when any mismatch was found, I/O when the only
    /// problems are files that could not be read; nil when it passed.
    public var failureKind: FailureKind? {
        if findings.isEmpty { return nil }
        return findings.contains { $0.kind == .verification } ? .verification : .io
    }
}

/// Why the gate could not run at all.
public enum TreeVerifyError: ChartSyncFailure, CustomStringConvertible {
    /// There is no versions.lock (or it is empty: the project has not pulled yet).
    case noLock(path: String)
    /// versions.lock is not valid.
    case invalidLock(path: String, line: Int, message: String)
    /// A file the gate needs could not be read.
    case fileSystem(FileSystemError)
    /// The helmfile named with `--helmfile` is not there (or neither a regular file nor a directory).
    case noHelmfile(path: String, what: String)

    public var kind: FailureKind {
        switch self {
        case .noLock, .invalidLock, .noHelmfile: return .input
        case .fileSystem: return .io
        }
    }

    public var description: String {
        switch self {
        case .noLock(let path): return "\(path) is missing (or empty); run chartsync pull to write it"
        case .invalidLock(let path, let line, let message): return "\(path): line \(line): \(message)"
        case .fileSystem(let error): return error.description
        case .noHelmfile(let path, let what): return "\(path): the helmfile is \(what)"
        }
    }
}

/// The CI checksum gate: proves the working tree against versions.lock and versions.lock
/// against the chart list, offline (no repository is contacted), reporting every problem.
///
/// Checks: every lock entry's tarball is in charts/external with the recorded size and sha256,
/// and its unpacked directory (when locked with a tree digest) holds exactly the tarball's
/// files; nothing else is in charts/external (dotfiles such as `.gitkeep` aside, as bundles
/// leave them out); every chart of the chart list is locked, every locked chart is listed, its
/// constraint admits the locked version and is the one the lock was resolved from, and the
/// repository and `unpack` agree. With a helmfile (named, or `helmfile.yaml`, `helmfile.yaml.gotmpl`
/// or `helmfile.d/` beside the chart list), its releases use only vendored or custom charts and
/// name values files that exist (`HelmfileCheck`). Files are hashed on
/// all cores.
public struct TreeVerifier: Sendable {
    private let layout: ProjectLayout
    private let helmfile: String?

    /// Creates a gate for a project; `helmfile` (absolute: a file, or a `helmfile.d`-style
    /// directory) names the helmfile to check, else the project's own is checked when it has one
    /// (``HelmfileTree/defaultFile(_:)``).
    public init(layout: ProjectLayout, helmfile: String? = nil) {
        self.layout = layout
        self.helmfile = helmfile
    }

    /// Runs every check. Throws only when nothing can be checked: an invalid chart list
    /// (`ChartListError`), a missing or invalid versions.lock, an unreadable lock or charts dir.
    public func verify() throws -> TreeVerification {
        if let helmfile, !FileSystem.isRegularFile(helmfile) && !(FileSystem.isDirectory(helmfile) && !FileSystem.isSymlink(helmfile)) {
            throw TreeVerifyError.noHelmfile(path: helmfile, what: FileSystem.kind(helmfile).map { "\($0), not a regular file or a helmfile.d-style directory" } ?? "missing")
        }
        let list = try ChartListReader.read(path: layout.chartList)
        let listName = FileSystem.baseName(layout.chartList)
        let lock: Lockfile
        do {
            guard let read = try LockfileReader.read(layout.lock) else { throw TreeVerifyError.noLock(path: layout.lock) }
            lock = read
        } catch let error as LockfileReadError {
            switch error {
            case .notRegular(_, let what):
                let finding = TreeFinding(.notRegular, file: "versions.lock", chart: nil, expected: "a regular file", actual: what,
                                          message: "is \(what), not a regular file; chartsync reads and writes only a regular versions.lock")
                return TreeVerification(root: layout.root, chartList: listName, charts: [], files: 0, bytes: 0, findings: [finding])
            case .invalid(let path, let line, let message): throw TreeVerifyError.invalidLock(path: path, line: line, message: message)
            case .fileSystem(let failure): throw TreeVerifyError.fileSystem(failure)
            }
        }
        let stale = LockfileCheck.findings(list, lock: lock, listName: listName)
        let contents: VendoredCharts.Check
        do {
            contents = try VendoredCharts(layout: layout).check(lock)
        } catch {
            throw TreeVerifyError.fileSystem(error)
        }
        // images.lock is compared once the tarballs are proven (its truth comes from them).
        let images = contents.findings.isEmpty ? ImageCollector(layout: layout).lockFindings(list, lock: lock) : nil
        let store = storeFindings(lockInvalid: images?.contains { $0.code == .imagesLockInvalid } ?? false)
        let helmfilePath = helmfile ?? HelmfileCheck.defaultFile(layout)
        let releases = helmfilePath.map { HelmfileCheck(layout: layout, helmfile: $0).check(lock) }
        var all: [TreeFinding] = stale + contents.findings
        all += images ?? []
        all += store ?? []
        all += releases?.findings ?? []
        all.sort { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) }
        let findings = all.filter { !$0.isWarning }
        // A release's finding is about the release, not the vendored chart.
        let failed = Set(findings.filter { $0.check != .helmfile }.compactMap(\.chart))
        let charts = lock.entries.map {
            TreeChartResult(name: $0.name, version: $0.version, file: "charts/external/" + $0.fileName,
                            directory: $0.tree == nil ? nil : "charts/external/" + $0.directoryName,
                            passed: !failed.contains($0.name))
        }
        var verification = TreeVerification(root: layout.root, chartList: listName, charts: charts, files: contents.files,
                                            bytes: contents.bytes, findings: findings)
        verification.warnings = all.filter(\.isWarning)
        verification.helmfile = releases?.file
        verification.helmfileFiles = releases?.files ?? []
        verification.releases = releases?.releases ?? 0
        verification.imagesChecked = images != nil
        verification.storeChecked = store != nil
        verification.imagesSkipped = !contents.findings.isEmpty
            && (FileSystem.exists(layout.root + "/images.lock") || list.images != ChartList.ImageSettings())
        return verification
    }

    /// The image store against images.lock, when `images/` exists: index.json names exactly the
    /// images of images.lock with their pinned digests, every blob they need is there and hashes
    /// to its name (hashed on all cores), nothing else is. Nil without a store, or when images.lock
    /// cannot be read (reported as such already).
    private func storeFindings(lockInvalid: Bool) -> [TreeFinding]? {
        let root = layout.root + "/" + ImageStoreCheck.directory
        guard FileSystem.exists(root) || FileSystem.isSymlink(root) else { return nil }
        func finding(_ problem: ImageStoreProblem) -> TreeFinding {
            let code: TreeFinding.Code
            switch problem.kind {
            case .imageNotStored: code = .imageNotStored
            case .imageNotLocked: code = .imageNotLocked
            case .blobMissing: code = .blobMissing
            case .blobMismatch: code = .blobMismatch
            case .blobUnneeded: code = .blobUnneeded
            case .invalid: code = .imageStoreInvalid
            }
            var result = TreeFinding(code, file: problem.path, chart: nil, expected: problem.expected, actual: problem.actual,
                                     message: problem.message)
            result.images = problem.images
            return result
        }
        func invalid(_ path: String, _ what: String) -> [TreeFinding] {
            [finding(ImageStoreProblem(.invalid, path: path, images: [], expected: "an image layout", actual: what,
                                       message: "\(what); run chartsync images --pull"))]
        }
        if FileSystem.isSymlink(root) || !FileSystem.isDirectory(root) { return invalid("images", "is not a directory") }
        let store = ImageLayout(root: root)
        var problems: [ImageStoreProblem] = []
        // Only oci-layout, index.json and blobs/ belong at the top.
        for name in (try? FileSystem.listDirectory(root)) ?? [] where !["oci-layout", "index.json", "blobs"].contains(name) {
            problems.append(ImageStoreProblem(.invalid, path: ImageStoreCheck.path(name), images: [], expected: "not there",
                                              actual: "present", message: "not part of an image layout (oci-layout, index.json, blobs/sha256/)"))
        }
        if !FileSystem.isRegularFile(store.layoutPath) || FileSystem.isSymlink(store.layoutPath) {
            problems.append(ImageStoreProblem(.invalid, path: "images/oci-layout", images: [], expected: "a regular file",
                                              actual: "missing or not a regular file", message: "missing or not a regular file"))
        }
        let entries: [ImageLayout.Entry]
        do {
            guard let read = try store.entries() else {
                return (problems + [ImageStoreProblem(.invalid, path: "images/index.json", images: [], expected: "index.json",
                                                      actual: "missing", message: "missing; run chartsync images --pull")]).map(finding)
            }
            entries = read
        } catch {
            return (problems + [ImageStoreProblem(.invalid, path: "images/index.json", images: [], expected: "a valid index.json",
                                                  actual: error.description, message: error.description)]).map(finding)
        }
        if !lockInvalid, let lock = try? ImageCollector(layout: layout).current() {
            problems += ImageStoreCheck.lockProblems(entries: entries, lock: lock)
        } else if !lockInvalid && !FileSystem.exists(layout.root + "/images.lock") {
            problems += ImageStoreCheck.lockProblems(entries: entries, lock: nil)
        }
        let stored = store.storedBlobs()
        let needs = ImageStoreCheck.needs(entries: entries, read: store.readManifest, present: { stored.digests.contains($0) })
        problems += needs.problems
        let toHash = needs.blobs.filter { stored.digests.contains($0.digest) }
        let hashed = WorkerPool.map(toHash, threads: WorkerPool.processorCount) { blob in
            (blob.digest, try? FileSystem.sha256(ofFile: store.blobPath(blob.digest)))
        }
        var sums: [String: (sha256: Digest, size: Int64)] = [:]
        for (digest, result) in hashed { if let result { sums[digest] = (result.0, result.1) } }
        // A blob that is there but cannot be read is unreadable, not missing.
        for (digest, result) in hashed where result == nil {
            problems.append(ImageStoreProblem(.invalid, path: ImageStoreCheck.blobPath(digest), images: [], expected: "readable",
                                              actual: "unreadable", message: "cannot be read"))
        }
        let unreadable = Set(hashed.filter { $0.1 == nil }.map { $0.0 })
        problems += ImageStoreCheck.contents(needs.blobs.filter { !unreadable.contains($0.digest) }, reported: needs.problems) { sums[$0] }
        problems += ImageStoreCheck.unneeded(stored: stored.digests, blobs: needs.blobs)
        for name in stored.others {
            problems.append(ImageStoreProblem(.invalid, path: "images/blobs/sha256/" + name, images: [], expected: "not there",
                                              actual: "present", message: "not a blob (a blob is named by its 64-hex sha256)"))
        }
        return problems.map(finding)
    }
}
