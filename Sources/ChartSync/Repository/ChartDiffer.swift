import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTemplate

/// Why `diff` stopped.
public enum DiffError: ChartSyncFailure, CustomStringConvertible {
    /// The chart list has no chart of that name.
    case notListed(chart: String, suggestions: [String])
    /// versions.lock does not record the chart.
    case notLocked(chart: String, lock: String)
    /// The vendored tarball is missing or is not what versions.lock records.
    case notVendored(chart: String, file: String, expected: String, found: String)
    /// The repository has no version the constraint admits and none at all.
    case noCandidate(chart: String, repository: String)
    /// A `--values` file cannot be read or is not a values mapping.
    case valuesFile(String)
    /// A chart tarball (locked or candidate) could not be read as a chart.
    case unreadableChart(chart: String, version: String, reason: String)
    /// Finding or fetching the candidate failed as `pull` fails.
    case pull(PullError)
    /// A temporary file could not be made or read.
    case fileSystem(FileSystemError)

    public var kind: FailureKind {
        switch self {
        case .notListed, .notLocked, .noCandidate, .valuesFile: return .input
        case .notVendored: return .verification
        case .unreadableChart, .fileSystem: return .io
        case .pull(let error): return error.kind
        }
    }

    public var description: String {
        switch self {
        case let .notListed(chart, suggestions):
            return "chart \"\(chart)\" is not in the chart list"
                + (suggestions.isEmpty ? "" : "; did you mean " + suggestions.map { "\"\($0)\"" }.joined(separator: ", ") + "?")
        case let .notLocked(chart, lock):
            return "\(lock) does not record chart \"\(chart)\"; run chartsync pull first (diff compares against the vendored version)"
        case let .notVendored(chart, file, expected, found):
            return "\(file) should be chart \"\(chart)\" as versions.lock records it (\(expected)), found \(found); run chartsync verify"
        case let .noCandidate(chart, repository):
            return "\(repository) has no version of chart \"\(chart)\" to compare with"
        case let .valuesFile(message):
            return message
        case let .unreadableChart(chart, version, reason):
            return "chart \"\(chart)\" \(version): \(reason)"
        case let .pull(error):
            return error.description
        case let .fileSystem(error):
            return error.description
        }
    }
}

/// `chartsync diff`: a chart's locked, vendored version against a candidate from its repository
/// (`--to`, else the newest its constraint admits, else the newest there is), fetched and proven
/// as `pull` proves it into a temporary directory that is removed afterwards. Nothing of the
/// project is written: charts/external, versions.lock and images.lock stay byte-identical.
public struct ChartDiffer: Sendable {
    private let layout: ProjectLayout
    private let puller: Puller
    private let scanner: ImageScanner

    /// A differ for the project at `layout`, fetching through `puller`.
    public init(layout: ProjectLayout, puller: Puller, scanner: ImageScanner = ImageScanner()) {
        self.layout = layout
        self.puller = puller
        self.scanner = scanner
    }

    /// One side of the comparison, read from its tarball.
    struct Side {
        let version: String
        let chart: LoadedChart
        /// The computed default values (subcharts' under their sections, without their copies of `global`).
        let values: ValueNode
        /// Templates and CRDs by path inside the chart.
        let files: [String: [UInt8]]
        let images: [ImageReference]
        let imagesWithValues: [ImageReference]?
    }

    /// Compares `chart` of `list` at its locked version with `to` (nil: wanted, else latest);
    /// `values` are the `--values` files (path to read, name to show), merged in order as
    /// `helm -f` merges them.
    public func diff(_ list: ChartList, chart name: String, to version: String?, values files: [(path: String, shown: String)],
                     options: PullOptions) throws(DiffError) -> ChartDiff {
        guard let chart = list.charts.first(where: { $0.name == name }), let repository = list.repository(of: chart) else {
            throw .notListed(chart: name, suggestions: ChartName.nearest(to: name, in: list.charts.map(\.name)))
        }
        let lock: Lockfile?
        do { lock = try LockfileReader.read(layout.lock) } catch { throw .pull(.invalidInput(error.description)) }
        guard let entry = lock?.entry(named: name) else { throw .notLocked(chart: name, lock: layout.lock) }
        let userValues = try readValues(files)

        let temporary: String
        do { temporary = try FileSystem.makeTemporaryDirectory(prefix: "chartsync-diff") } catch { throw .fileSystem(error) }
        defer { FileSystem.removeTree(temporary) }
        let lockedFile = try provenCopy(entry, into: temporary)

        // The candidate: fetched and proven into the temporary directory.
        let single = ChartList(repositories: [repository], charts: [chart])
        let candidateDirectory = temporary + "/candidate"
        do { try FileSystem.makeDirectory(candidateDirectory) } catch { throw .fileSystem(error) }
        var reason = ChartDiff.Candidate.asked
        var found: Lockfile.Entry?
        do throws(PullError) {
            if let version {
                found = try puller.fetch(chart: name, version: version, of: single, into: candidateDirectory, options: options)
            } else {
                reason = .wanted
                do throws(PullError) {
                    found = try puller.fetch(chart: name, version: nil, of: single, into: candidateDirectory, options: options)
                } catch {
                    guard case .noMatchingVersion = error else { throw error }
                    // No version is admitted: the newest there is.
                    reason = .latest
                    if let latest = try puller.availableVersions(single, options: options)[name]?.latest {
                        found = try puller.fetch(chart: name, version: latest.version, of: single, into: candidateDirectory,
                                                   options: options)
                    }
                }
            }
        } catch {
            throw .pull(error)
        }
        guard let fetched = found else { throw .noCandidate(chart: name, repository: RepositoryURL.redacted(repository.url)) }

        let old = try read(lockedFile, version: entry.version, shown: "charts/external/" + entry.fileName, name: name, userValues: userValues)
        let new = try read(candidateDirectory + "/" + fetched.fileName, version: fetched.version, shown: fetched.url, name: name,
                           userValues: userValues)
        return compare(old, new, name: name, repository: fetched.repository, reason: reason, sha256: fetched.sha256,
                       userValues: userValues, files: files.map(\.shown))
    }

    /// The two sides compared.
    func compare(_ old: Side, _ new: Side, name: String, repository: String, reason: ChartDiff.Candidate, sha256: Digest,
                 userValues: ValueNode?, files: [String]) -> ChartDiff {
        var metadata: [FieldChange] = []
        let a = old.chart.metadata, b = new.chart.metadata
        for (field, before, after) in [("version", a.version, b.version), ("appVersion", a.appVersion, b.appVersion),
                                       ("kubeVersion", a.kubeVersion, b.kubeVersion),
                                       ("deprecated", String(a.deprecated), String(b.deprecated))] as [(String, String?, String?)]
        where before != after {
            metadata.append(FieldChange(field: field, from: before, to: after))
        }
        func dependencies(_ chart: LoadedChart) -> [(name: String, DependencyInfo)] {
            chart.dependencies.map { (name: $0.instanceName, DependencyInfo(chart: $0.name, version: $0.version, condition: $0.condition,
                                                                       repository: $0.repository)) }
        }
        let (templates, crds) = ChartComparison.files(old.files, new.files)
        var ignored: [IgnoredOverride] = []
        var withValues: ImageChanges?
        if let userValues, let before = old.imagesWithValues, let after = new.imagesWithValues {
            ignored = ChartComparison.ignoredOverrides(userValues, candidate: new.values, locked: old.values)
            withValues = ChartComparison.images(before, after)
        }
        return ChartDiff(chart: name, repository: repository, from: old.version, to: new.version, candidate: reason,
                         candidateSHA256: sha256, metadata: metadata,
                         dependencies: ChartComparison.dependencies(dependencies(old.chart), dependencies(new.chart)),
                         values: ChartComparison.values(old.values, new.values),
                         images: ChartComparison.images(old.images, new.images), templates: templates, crds: crds,
                         valuesFiles: files, ignoredOverrides: ignored, imagesWithValues: withValues)
    }

    /// The values files merged in order; nil without any.
    private func readValues(_ files: [(path: String, shown: String)]) throws(DiffError) -> ValueNode? {
        var read: [(bytes: [UInt8], name: String)] = []
        for file in files {
            do {
                read.append((try FileSystem.readFile(file.path, limit: Int(scanner.limits.maxFileBytes)), file.shown))
            } catch {
                throw .valuesFile("values file \(file.shown): \(error.description)")
            }
        }
        do { return try scanner.userValues(read) } catch { throw .valuesFile(error.description) }
    }

    /// The vendored tarball of `entry` copied into `directory` and proven against the lock there
    /// (the copy is what is read, so a file changed meanwhile cannot slip in).
    private func provenCopy(_ entry: Lockfile.Entry, into directory: String) throws(DiffError) -> String {
        let file = layout.external + "/" + entry.fileName
        let shown = "charts/external/" + entry.fileName
        let expected = "\(entry.sha256.prefixed), \(entry.size) bytes"
        guard !FileSystem.isSymlink(file), FileSystem.isRegularFile(file) else {
            throw .notVendored(chart: entry.name, file: shown, expected: expected,
                               found: FileSystem.exists(file) ? (FileSystem.kind(file) ?? "not a regular file") : "nothing")
        }
        let copy = directory + "/locked-" + entry.fileName
        do {
            try FileSystem.copyFile(file, to: copy)
            let (digest, size) = try FileSystem.sha256(ofFile: copy)
            guard digest == entry.sha256, size == entry.size else {
                throw DiffError.notVendored(chart: entry.name, file: shown, expected: expected, found: "\(digest.prefixed), \(size) bytes")
            }
        } catch let error as DiffError {
            throw error
        } catch let error as FileSystemError {
            throw .fileSystem(error)
        } catch {
            throw .fileSystem(FileSystemError(path: file, message: String(describing: error)))
        }
        return copy
    }

    /// Reads one side: its chart tree, computed defaults, templates and CRDs, and images.
    private func read(_ tarball: String, version: String, shown: String, name: String, userValues: ValueNode?) throws(DiffError) -> Side {
        func unreadable(_ reason: String) -> DiffError {
            .unreadableChart(chart: name, version: version, reason: reason.replacing(tarball, with: shown))
        }
        let files: ChartFiles
        do throws(ArchiveError) {
            files = try ChartFiles.read(tarball: tarball, limits: scanner.limits, maxNesting: scanner.maxNesting, including: ["crds"])
        } catch {
            throw unreadable(error.description)
        }
        do throws(ImageScanError) {
            let chart = try LoadedChart(files: files, tarball: shown, yamlLimits: scanner.yamlLimits)
            var builder = ChartTreeBuilder()
            let (computed, _) = builder.values(of: chart, section: .emptyMap(file: files.entryName("values.yaml")),
                                               label: chart.metadata.name)
            let images = try scanner.scan(files: files, tarball: shown).images
            var withValues: [ImageReference]?
            if let userValues { withValues = try scanner.scan(files: files, tarball: shown, values: userValues).images }
            return Side(version: version, chart: chart, values: Self.withoutSubchartGlobals(computed, chart: chart),
                        files: Self.templateFiles(chart), images: images, imagesWithValues: withValues)
        } catch {
            throw unreadable(error.description)
        }
    }

    /// The computed values without the copies of `global` Helm puts into each subchart's section.
    static func withoutSubchartGlobals(_ values: ValueNode, chart: LoadedChart) -> ValueNode {
        var out = values
        var builder = ChartTreeBuilder()
        for (sub, dependency) in builder.pairs(of: chart, label: "", warn: false) {
            let key = dependency?.instanceName ?? sub.metadata.name
            guard var section = out[key], let pairs = section.pairs else { continue }
            section.content = .map(pairs.filter { $0.key != "global" })
            out.set(key, withoutSubchartGlobals(section, chart: sub))
        }
        return out
    }

    /// Templates and CRD files by path inside the chart, subcharts' under `charts/<name>/`.
    static func templateFiles(_ chart: LoadedChart) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        func collect(_ chart: LoadedChart, _ prefix: String) {
            for (relative, bytes) in chart.files.files where relative.hasPrefix("templates/") || relative.hasPrefix("crds/") {
                out[prefix + relative] = bytes
            }
            var seen: [String: Int] = [:]
            for sub in chart.subcharts {
                seen[sub.metadata.name, default: 0] += 1
                let name = seen[sub.metadata.name]! == 1 ? sub.metadata.name : sub.metadata.name + "-" + sub.metadata.version
                collect(sub, prefix + "charts/" + name + "/")
            }
        }
        collect(chart, "")
        return out
    }
}
