import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore

/// Whether charts/external is exactly what versions.lock says: every locked tarball there with
/// its recorded size and sha256, every unpacked chart holding exactly its tarball's files, and
/// nothing else (dotfiles such as `.gitkeep` aside). The gate reports what it finds; the packer
/// refuses to bundle a tree with any finding. Silent; files are hashed on all cores.
public struct VendoredCharts: Sendable {
    private let layout: ProjectLayout

    /// A check of the project's charts/external.
    public init(layout: ProjectLayout) {
        self.layout = layout
    }

    /// What the check found.
    public struct Check: Sendable {
        /// Every problem, in the order found.
        public var findings: [TreeFinding] = []
        /// Regular files hashed (tarballs and the files of unpacked charts).
        public var files = 0
        /// Bytes of the tarballs hashed.
        public var bytes: Int64 = 0
    }

    /// What one hashing job produced.
    private enum Hashed: Sendable {
        case file(Digest, Int64)
        case tree([(path: String, sha256: String)])
        case failed(TreeFinding.Code, path: String, reason: String)
    }

    /// Proves charts/external against the lock. `known` holds digests already computed (by the
    /// packer, which hashes every file anyway) by path relative to the root; the rest is hashed
    /// here on all cores. Throws only when charts/external itself cannot be read.
    public func check(_ lock: Lockfile, known: [String: (sha256: Digest, size: Int64)] = [:]) throws(FileSystemError) -> Check {
        var check = Check()
        let externalPath = "charts/external"
        var names: [String] = []
        switch try FileSystem.type(of: layout.external) {
        case nil:
            break
        case .directory?:
            names = try FileSystem.listDirectory(layout.external).filter { !$0.hasPrefix(".") }
        case .regular?, .other?:
            let what = FileSystem.kind(layout.external) ?? "not a directory"
            check.findings.append(TreeFinding(
                .notRegular, file: externalPath, chart: nil, expected: "a directory", actual: what,
                message: "is \(what), not a directory; the vendored charts are not checked through it"))
            return check
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
            let type: FileType?
            do {
                type = try FileSystem.type(of: path)
            } catch {
                check.findings.append(TreeFinding(
                    .unreadable, file: externalPath + "/" + name, chart: (tarballs[name] ?? trees[name])?.name,
                    expected: "readable", actual: SystemError.text(), message: "cannot be read: \(SystemError.text())"))
                continue
            }
            switch type {
            case .regular?: jobs.append((name, false))
            case .directory?: jobs.append((name, true))
            case nil: continue   // gone since the listing
            case .other(let what)?:
                let owner = tarballs[name] ?? trees[name]
                let expected = tarballs[name] != nil ? "a regular file" : trees[name] != nil ? "a directory" : "nothing"
                let reason = owner.map { "versions.lock lists \($0.name) \($0.version) here as \(expected)" }
                    ?? "charts/external holds only locked tarballs and unpacked chart directories"
                check.findings.append(TreeFinding(.notRegular, file: externalPath + "/" + name, chart: owner?.name,
                                                  expected: expected, actual: what, message: "is \(what); \(reason)"))
            }
        }

        let root = layout.external
        let all = jobs
        let hashed = WorkerPool.map(all, threads: WorkerPool.processorCount) { job -> Hashed in
            let (name, isDirectory) = job
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
            return result
        }

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
                    let note = Self.isLFSPointer(layout.root + "/" + file, size: size)
                        ? " (a Git LFS pointer, not the chart: run git lfs pull)" : size < entry.size ? " (truncated?)" : ""
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

    /// Whether a small file is a Git LFS pointer (the repository was cloned without `git lfs`).
    static func isLFSPointer(_ path: String, size: Int64) -> Bool {
        guard size < 1024, let bytes = try? FileSystem.readFile(path, limit: 1024) else { return false }
        return bytes.starts(with: Array("version https://git-lfs.github.com/spec/v1".utf8))
    }
}
