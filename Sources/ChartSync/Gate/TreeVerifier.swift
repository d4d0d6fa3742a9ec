import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex
import Synchronization
import Glibc

/// One problem the working-tree gate found: which file, what was expected, what is there.
public struct TreeFinding: Sendable, Equatable, CustomStringConvertible {
    /// What a finding is about.
    public enum Check: String, Sendable, CaseIterable {
        /// charts/external against versions.lock.
        case charts
        /// versions.lock against the chart list.
        case lock
        /// images.lock against the vendored charts and the chart list's `images:` section.
        case images
    }

    /// The kind of problem; the raw values are the stable codes of `verify --json`.
    public enum Code: String, Sendable, CaseIterable {
        /// A file or directory versions.lock lists is not there.
        case missing
        /// A tarball's sha256 or size differs from versions.lock.
        case checksumMismatch = "checksum-mismatch"
        /// A file of an unpacked chart differs from its tarball (or the tree digest from the lock).
        case treeMismatch = "tree-mismatch"
        /// Something in charts/external that versions.lock does not list.
        case unlisted
        /// A symbolic link or special file where a regular file or directory belongs.
        case notRegular = "not-regular"
        /// A file that could not be read (an I/O failure, not a mismatch).
        case unreadable
        /// A chart in the chart list without a versions.lock entry.
        case notLocked = "not-locked"
        /// A versions.lock entry the chart list no longer lists.
        case notListed = "not-listed"
        /// The chart list's constraint does not admit the locked version.
        case constraintNotAdmitted = "constraint-not-admitted"
        /// The constraint still admits the locked version but is not the one it was resolved from.
        case constraintChanged = "constraint-changed"
        /// The chart's repository URL differs from the one it was locked from.
        case repositoryChanged = "repository-changed"
        /// `unpack` differs between the chart list and versions.lock.
        case unpackChanged = "unpack-changed"
        /// The chart list's digest differs from the lock's for another reason (devel, allowMissingDigest).
        case chartListChanged = "chart-list-changed"
        /// The chart list has an `images:` section but there is no images.lock.
        case imagesLockMissing = "images-lock-missing"
        /// images.lock is not valid, or a chart could not be read for its images.
        case imagesLockInvalid = "images-lock-invalid"
        /// A chart uses an image images.lock does not list.
        case imageMissing = "image-missing"
        /// images.lock lists an image nothing uses.
        case imageUnused = "image-unused"
        /// images.lock names other charts for an image.
        case imageChartsChanged = "image-charts-changed"
        /// A chart pins a digest images.lock records otherwise.
        case imageDigestChanged = "image-digest-changed"

        /// The check the code belongs to.
        public var check: Check {
            switch self {
            case .missing, .checksumMismatch, .treeMismatch, .unlisted, .notRegular, .unreadable: return .charts
            case .notLocked, .notListed, .constraintNotAdmitted, .constraintChanged, .repositoryChanged, .unpackChanged,
                 .chartListChanged: return .lock
            case .imagesLockMissing, .imagesLockInvalid, .imageMissing, .imageUnused, .imageChartsChanged, .imageDigestChanged:
                return .images
            }
        }
    }

    /// The kind of problem.
    public let code: Code
    /// The file concerned, relative to the project root.
    public let file: String
    /// The 1-based line in `file`, when known (chart list entries).
    public let line: Int?
    /// The chart concerned, when one is.
    public let chart: String?
    /// What versions.lock (or the chart's tarball) says should be there.
    public let expected: String
    /// What is there.
    public let actual: String
    /// The problem in words (without the file name).
    public let message: String

    /// Creates a finding.
    public init(_ code: Code, file: String, line: Int? = nil, chart: String?, expected: String, actual: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.chart = chart
        self.expected = expected
        self.actual = actual
        self.message = message
    }

    /// The check it belongs to.
    public var check: Check { code.check }

    /// Verification failure, or I/O failure for a file that could not be read.
    public var kind: FailureKind { code == .unreadable ? .io : .verification }

    /// `file[:line]: message`.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

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
    /// images.lock was compared (it exists, or the chart list has an images section, and the charts were proven).
    public var imagesChecked = false

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
    /// There is no versions.lock.
    case noLock(path: String)
    /// versions.lock is not valid.
    case invalidLock(path: String, line: Int, message: String)
    /// A file the gate needs could not be read.
    case fileSystem(FileSystemError)

    public var kind: FailureKind {
        switch self {
        case .noLock, .invalidLock: return .input
        case .fileSystem: return .io
        }
    }

    public var description: String {
        switch self {
        case .noLock(let path): return "\(path) is missing; run chartsync pull to write it"
        case .invalidLock(let path, let line, let message): return "\(path): line \(line): \(message)"
        case .fileSystem(let error): return error.description
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
/// repository and `unpack` agree. Files are hashed on all cores.
public struct TreeVerifier: Sendable {
    private let layout: ProjectLayout

    /// Creates a gate for a project.
    public init(layout: ProjectLayout) {
        self.layout = layout
    }

    /// Runs every check. Throws only when nothing can be checked: an invalid chart list
    /// (`ChartListError`), a missing or invalid versions.lock, an unreadable lock or charts dir.
    public func verify() throws -> TreeVerification {
        let list = try ChartListReader.read(path: layout.chartList)
        let listName = FileSystem.baseName(layout.chartList)
        var info = stat()
        guard lstat(layout.lock, &info) == 0 else {
            if errno == ENOENT { throw TreeVerifyError.noLock(path: layout.lock) }
            throw TreeVerifyError.fileSystem(FileSystemError(path: layout.lock, message: "cannot read: \(FileSystem.reason())"))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let finding = TreeFinding(.notRegular, file: "versions.lock", chart: nil, expected: "a regular file",
                                      actual: Self.describe(info.st_mode),
                                      message: "is \(Self.describe(info.st_mode)), not a regular file; chartsync reads and writes only a regular versions.lock")
            return TreeVerification(root: layout.root, chartList: listName, charts: [], files: 0, bytes: 0, findings: [finding])
        }
        let lock: Lockfile
        do {
            lock = try LockfileCoding.parse(try FileSystem.readFile(layout.lock), source: layout.lock)
        } catch let error as YAMLError {
            throw TreeVerifyError.invalidLock(path: layout.lock, line: error.line, message: error.message)
        } catch let error as FileSystemError {
            throw TreeVerifyError.fileSystem(error)
        }
        let stale = Self.lockFindings(list, lock: lock, listName: listName)
        let contents = try checkCharts(lock, known: [:])
        // images.lock is compared once the tarballs are proven (its truth comes from them).
        let images = contents.findings.isEmpty ? imagesFindings(list, lock: lock) : nil
        let findings = (stale + contents.findings + (images ?? [])).sorted { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) }
        let failed = Set(findings.compactMap(\.chart))
        let charts = lock.entries.map {
            TreeChartResult(name: $0.name, version: $0.version, file: "charts/external/" + $0.fileName,
                            directory: $0.tree == nil ? nil : "charts/external/" + $0.directoryName,
                            passed: !failed.contains($0.name))
        }
        var verification = TreeVerification(root: layout.root, chartList: listName, charts: charts, files: contents.files,
                                            bytes: contents.bytes, findings: findings)
        verification.imagesChecked = images != nil
        return verification
    }

    // MARK: - versions.lock against the chart list

    /// Whether versions.lock is what a pull of this chart list would keep: every chart locked,
    /// nothing else locked, and each entry resolved from the chart's current constraint,
    /// repository and unpack setting.
    static func lockFindings(_ list: ChartList, lock: Lockfile, listName: String) -> [TreeFinding] {
        var findings: [TreeFinding] = []
        for chart in list.charts {
            guard let entry = lock.entry(named: chart.name) else {
                findings.append(TreeFinding(
                    .notLocked, file: listName, line: chart.line, chart: chart.name,
                    expected: "a versions.lock entry for \(chart.name)", actual: "none",
                    message: "chart \(chart.name) is listed but versions.lock has no entry for it; run chartsync pull"))
                continue
            }
            let constraint = chart.version ?? "*"
            if !chart.admits(entry.version) {
                findings.append(TreeFinding(
                    .constraintNotAdmitted, file: listName, line: chart.line, chart: chart.name,
                    expected: "a version admitted by \"\(constraint)\"", actual: entry.version,
                    message: "chart \(chart.name): version \"\(constraint)\"\(chart.devel ? " (devel)" : "") does not admit the locked version \(entry.version); run chartsync pull"))
            } else if chart.version != entry.constraint {
                findings.append(TreeFinding(
                    .constraintChanged, file: listName, line: chart.line, chart: chart.name,
                    expected: entry.constraint ?? "*", actual: constraint,
                    message: "chart \(chart.name): version is \"\(constraint)\", but versions.lock resolved \(entry.version) from \"\(entry.constraint ?? "*")\"; run chartsync pull"))
            }
            if let repository = list.repository(of: chart), RepositoryURL.redacted(repository.url) != entry.repository {
                findings.append(TreeFinding(
                    .repositoryChanged, file: listName, line: chart.line, chart: chart.name,
                    expected: entry.repository, actual: RepositoryURL.redacted(repository.url),
                    message: "chart \(chart.name): repository is \(RepositoryURL.redacted(repository.url)), but versions.lock has it from \(entry.repository); run chartsync pull"))
            }
            if chart.unpack != (entry.tree != nil) {
                findings.append(TreeFinding(
                    .unpackChanged, file: listName, line: chart.line, chart: chart.name,
                    expected: "unpack: \(entry.tree != nil)", actual: "unpack: \(chart.unpack)",
                    message: "chart \(chart.name): unpack is \(chart.unpack), but versions.lock has it \(entry.tree != nil ? "unpacked" : "packed only"); run chartsync pull"))
            }
        }
        let listed = Set(list.charts.map(\.name))
        for entry in lock.entries where !listed.contains(entry.name) {
            findings.append(TreeFinding(
                .notListed, file: "versions.lock", chart: entry.name,
                expected: "no entry for \(entry.name)", actual: "\(entry.name) \(entry.version)",
                message: "versions.lock has \(entry.name) \(entry.version), which \(listName) does not list; run chartsync pull --prune"))
        }
        let digest = Puller.digest(of: list)
        if findings.isEmpty && lock.chartList != digest {
            findings.append(TreeFinding(
                .chartListChanged, file: "versions.lock", chart: nil,
                expected: lock.chartList.prefixed, actual: digest.prefixed,
                message: "was written for another chart list (\(lock.chartList.prefixed); \(listName) is now \(digest.prefixed): devel or allowMissingDigest changed); run chartsync pull"))
        }
        return findings
    }

    // MARK: - images.lock against the charts

    /// Whether images.lock is what `chartsync images` would write (digests it pins aside); nil
    /// when there is nothing to check (no images.lock and no `images:` section). The caller has
    /// proven the tarballs against the lock, so they are not hashed again here.
    func imagesFindings(_ list: ChartList, lock: Lockfile) -> [TreeFinding]? {
        let collector = ImageCollector(layout: layout)
        let file = "images.lock"
        let current: ImagesManifest?
        let expected: ExpectedImages
        do {
            current = try collector.current()
            guard current != nil || list.images != ChartList.ImageSettings() else { return nil }
            expected = try collector.expected(list, lock: lock, tarballsProven: true)
        } catch {
            return [TreeFinding(.imagesLockInvalid, file: file, chart: nil, expected: "a valid images.lock", actual: error.description,
                                message: error.description)]
        }
        guard let current else {
            return [TreeFinding(.imagesLockMissing, file: file, chart: nil, expected: "images.lock listing \(expected.manifest.images.count) image(s)",
                                actual: "missing", message: "missing, and \(FileSystem.baseName(layout.chartList)) has an images section; run chartsync images")]
        }
        return ImageCollector.differences(expected: expected.manifest, current: current).map { difference in
            let code: TreeFinding.Code
            switch difference.kind {
            case .missing: code = .imageMissing
            case .unused: code = .imageUnused
            case .chartsChanged: code = .imageChartsChanged
            case .digestChanged: code = .imageDigestChanged
            }
            return TreeFinding(code, file: file, chart: nil, expected: difference.expected, actual: difference.actual,
                               message: difference.description + "; run chartsync images")
        }
    }

    // MARK: - charts/external against versions.lock

    /// The charts check, result.
    struct ChartsCheck {
        var findings: [TreeFinding] = []
        var files = 0
        var bytes: Int64 = 0
    }

    /// What one hashing job produced.
    private enum Hashed: Sendable {
        case file(Digest, Int64)
        case tree([(path: String, sha256: String)])
        case failed(TreeFinding.Code, path: String, reason: String)
    }

    /// Proves charts/external against the lock. `known` holds digests already computed (by the
    /// packer, which hashes every file anyway) by path relative to the root; the rest is hashed
    /// here on all cores.
    func checkCharts(_ lock: Lockfile, known: [String: (sha256: Digest, size: Int64)]) throws -> ChartsCheck {
        var check = ChartsCheck()
        let externalPath = "charts/external"
        var info = stat()
        var names: [String] = []
        if lstat(layout.external, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                check.findings.append(TreeFinding(
                    .notRegular, file: externalPath, chart: nil, expected: "a directory", actual: Self.describe(info.st_mode),
                    message: "is \(Self.describe(info.st_mode)), not a directory; the vendored charts are not checked through it"))
                return check
            }
            do {
                names = try FileSystem.listDirectory(layout.external).filter { !$0.hasPrefix(".") }
            } catch {
                throw TreeVerifyError.fileSystem(error)
            }
        } else if errno != ENOENT {
            throw TreeVerifyError.fileSystem(FileSystemError(path: layout.external, message: "cannot read: \(FileSystem.reason())"))
        }

        var tarballs: [String: Lockfile.Entry] = [:]
        var trees: [String: Lockfile.Entry] = [:]
        for entry in lock.entries {
            tarballs[entry.fileName] = entry
            if entry.tree != nil { trees[entry.directoryName] = entry }
        }
        // What is there: regular files and directories are hashed; anything else is a finding.
        var jobs: [(name: String, isDirectory: Bool)] = []
        for name in names {
            let path = layout.external + "/" + name
            guard lstat(path, &info) == 0 else {
                check.findings.append(TreeFinding(
                    .unreadable, file: externalPath + "/" + name, chart: (tarballs[name] ?? trees[name])?.name,
                    expected: "readable", actual: FileSystem.reason(), message: "cannot be read: \(FileSystem.reason())"))
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG: jobs.append((name, false))
            case S_IFDIR: jobs.append((name, true))
            default:
                let what = Self.describe(info.st_mode)
                let owner = tarballs[name] ?? trees[name]
                let expected = tarballs[name] != nil ? "a regular file" : trees[name] != nil ? "a directory" : "nothing"
                let reason = owner.map { "versions.lock lists \($0.name) \($0.version) here as \(expected)" }
                    ?? "charts/external holds only locked tarballs and unpacked chart directories"
                check.findings.append(TreeFinding(.notRegular, file: externalPath + "/" + name, chart: owner?.name,
                                                  expected: expected, actual: what, message: "is \(what); \(reason)"))
            }
        }

        let root = layout.external
        let results = Mutex<[Int: Hashed]>([:])
        let all = jobs
        WorkerPool.run(count: all.count, threads: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) { i in
            let (name, isDirectory) = all[i]
            let result: Hashed
            if !isDirectory, let digest = known[externalPath + "/" + name] {
                result = .file(digest.sha256, digest.size)
            } else if isDirectory {
                do throws(ArchiveError) {
                    result = .tree(try TreeDigest.listing(directory: root + "/" + name))
                } catch {
                    result = Self.failure(error, directory: root + "/" + name)
                }
            } else {
                do throws(FileSystemError) {
                    let (digest, size) = try FileSystem.sha256(ofFile: root + "/" + name)
                    result = .file(digest, size)
                } catch {
                    result = .failed(.unreadable, path: root + "/" + name, reason: error.message)
                }
            }
            results.withLock { $0[i] = result }
        }
        let hashed = results.withLock { $0 }

        var present: [String: Hashed] = [:]
        for (i, job) in all.enumerated() { present[job.name] = hashed[i] }
        var missing: [Digest: String] = [:]   // sha256 of a missing tarball -> its path (for the renamed hint)
        for entry in lock.entries where present[entry.fileName] == nil && !check.findings.contains(where: { $0.file == externalPath + "/" + entry.fileName }) {
            missing[entry.sha256] = externalPath + "/" + entry.fileName
        }
        var provenTarballs = Set<String>()

        for entry in lock.entries {
            let file = externalPath + "/" + entry.fileName
            let expected = "\(entry.sha256.prefixed) (\(entry.size) bytes)"
            switch present[entry.fileName] {
            case .file(let digest, let size)?:
                check.files += 1
                check.bytes += size
                if digest == entry.sha256 && size == entry.size {
                    provenTarballs.insert(entry.name)
                } else {
                    let actual = "\(digest.prefixed) (\(size) bytes)"
                    let note = size < entry.size ? " (truncated?)" : ""
                    check.findings.append(TreeFinding(.checksumMismatch, file: file, chart: entry.name, expected: expected, actual: actual,
                                                      message: "expected \(expected), found \(actual)\(note)"))
                }
            case .tree?:
                check.findings.append(TreeFinding(.notRegular, file: file, chart: entry.name, expected: "a regular file",
                                                  actual: "a directory", message: "is a directory; versions.lock lists \(entry.name) \(entry.version) here as a tarball"))
            case .failed(let code, let path, let reason)?:
                check.findings.append(finding(code, absolute: path, reason: reason, chart: entry.name, expected: expected))
            case nil:
                if !check.findings.contains(where: { $0.file == file }) {
                    check.findings.append(TreeFinding(.missing, file: file, chart: entry.name, expected: expected, actual: "missing",
                                                      message: "missing; versions.lock lists \(entry.name) \(entry.version) with \(expected)"))
                }
            }
            guard let tree = entry.tree else { continue }
            let directory = externalPath + "/" + entry.directoryName
            switch present[entry.directoryName] {
            case .tree(let listing)?:
                check.files += listing.count
                if TreeDigest.digest(of: listing) != tree {
                    check.findings += treeFindings(entry, directory: directory, listing: listing,
                                                   tarballProven: provenTarballs.contains(entry.name))
                }
            case .file?:
                check.findings.append(TreeFinding(.notRegular, file: directory, chart: entry.name, expected: "a directory",
                                                  actual: "a regular file", message: "is a regular file; versions.lock lists \(entry.name) \(entry.version) unpacked here"))
            case .failed(let code, let path, let reason)?:
                check.findings.append(finding(code, absolute: path, reason: reason, chart: entry.name, expected: "tree \(tree.prefixed)"))
            case nil:
                if !check.findings.contains(where: { $0.file == directory }) {
                    check.findings.append(TreeFinding(.missing, file: directory, chart: entry.name, expected: "tree \(tree.prefixed)", actual: "missing",
                                                      message: "missing; versions.lock lists \(entry.name) \(entry.version) unpacked (tree \(tree.prefixed))"))
                }
            }
        }

        // Whatever the lock does not account for.
        for (name, result) in present.sorted(by: { $0.key < $1.key }) where tarballs[name] == nil && trees[name] == nil {
            let file = externalPath + "/" + name
            switch result {
            case .file(let digest, let size):
                check.files += 1
                check.bytes += size
                let hint = missing[digest].map { "; same content as the missing \($0) (renamed?)" } ?? ""
                check.findings.append(TreeFinding(.unlisted, file: file, chart: nil, expected: "absent (not in versions.lock)",
                                                  actual: "\(digest.prefixed) (\(size) bytes)",
                                                  message: "not listed in versions.lock (\(digest.prefixed), \(size) bytes)\(hint)"))
            case .tree(let listing):
                check.files += listing.count
                check.findings.append(TreeFinding(.unlisted, file: file, chart: nil, expected: "absent (not in versions.lock)",
                                                  actual: "a directory of \(listing.count) file(s), tree \(TreeDigest.digest(of: listing).prefixed)",
                                                  message: "not listed in versions.lock (a directory of \(listing.count) file(s))"))
            case .failed(let code, let path, let reason):
                check.findings.append(finding(code, absolute: path, reason: reason, chart: nil, expected: "absent (not in versions.lock)"))
            }
        }
        return check
    }

    /// Names each file of an unpacked chart that differs from its proven tarball; when the
    /// tarball is not proven (or unpacking it shows no difference), one finding for the directory.
    private func treeFindings(_ entry: Lockfile.Entry, directory: String, listing: [(path: String, sha256: String)],
                              tarballProven: Bool) -> [TreeFinding] {
        let whole = TreeFinding(.treeMismatch, file: directory, chart: entry.name, expected: "tree \(entry.tree!.prefixed)",
                                actual: "tree \(TreeDigest.digest(of: listing).prefixed)",
                                message: "tree digest \(TreeDigest.digest(of: listing).prefixed), versions.lock has \(entry.tree!.prefixed)")
        guard tarballProven, let reference = Self.unpackedListing(layout.external + "/" + entry.fileName, chart: entry.name) else {
            return [whole]
        }
        let have = Dictionary(listing.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        let want = Dictionary(reference.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        var findings: [TreeFinding] = []
        for path in Set(have.keys).union(want.keys).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let file = directory + "/" + path
            if let wanted = want[path], let had = have[path] {
                if wanted != had {
                    findings.append(TreeFinding(.treeMismatch, file: file, chart: entry.name, expected: "sha256:" + wanted, actual: "sha256:" + had,
                                                message: "differs from \(entry.fileName): expected sha256:\(wanted), found sha256:\(had)"))
                }
            } else if let wanted = want[path] {
                findings.append(TreeFinding(.missing, file: file, chart: entry.name, expected: "sha256:" + wanted, actual: "missing",
                                            message: "missing; \(entry.fileName) has it (sha256:\(wanted))"))
            } else if let had = have[path] {
                findings.append(TreeFinding(.unlisted, file: file, chart: entry.name, expected: "absent (not in \(entry.fileName))",
                                            actual: "sha256:" + had, message: "not in \(entry.fileName) (sha256:\(had))"))
            }
        }
        return findings.isEmpty ? [whole] : findings
    }

    /// The listing of a tarball unpacked into a scratch directory; nil when it cannot be unpacked.
    private static func unpackedListing(_ tarball: String, chart: String) -> [(path: String, sha256: String)]? {
        guard let scratch = try? FileSystem.makeTemporaryDirectory(prefix: "chartsync-verify") else { return nil }
        defer { FileSystem.removeTree(scratch) }
        guard let archive = try? ChartArchive(path: tarball, scanAll: false) else { return nil }
        let top = archive.directory == "." ? chart : archive.directory
        guard let extracted = try? ChartExtractor.extract(archive: tarball, into: scratch + "/chart", topDirectory: top) else { return nil }
        return try? TreeDigest.listing(directory: extracted.directory)
    }

    private static func failure(_ error: ArchiveError, directory: String) -> Hashed {
        switch error {
        case .unsafeTreeEntry(let path, let reason): return .failed(.notRegular, path: path, reason: reason)
        case .cannotReadTree(let path, let message): return .failed(.unreadable, path: path, reason: message)
        default: return .failed(.unreadable, path: directory, reason: error.description)
        }
    }

    /// A finding for a path that could not be hashed (given absolute; reported relative).
    private func finding(_ code: TreeFinding.Code, absolute: String, reason: String, chart: String?, expected: String) -> TreeFinding {
        let file = absolute.hasPrefix(layout.root + "/") ? String(absolute.dropFirst(layout.root.count + 1)) : absolute
        if code == .notRegular {
            return TreeFinding(code, file: file, chart: chart, expected: "a regular file or directory", actual: reason,
                               message: "is \(reason); chartsync vendors regular files and directories only")
        }
        return TreeFinding(code, file: file, chart: chart, expected: expected, actual: "unreadable: \(reason)",
                           message: "cannot be read: \(reason)")
    }

    /// What a non-regular file is, for messages.
    static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFLNK: return "a symbolic link"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        default: return "a file of unknown type"
        }
    }
}
