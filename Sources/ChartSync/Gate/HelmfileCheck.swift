import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import Glibc

/// Whether helmfile's releases use only charts the project carries: reads a helmfile and what
/// it pulls in (`helmfiles:`, also as globs, `bases:`, every `---` part), checks that the
/// environments' values files exist, that every local `chart:` path is a chart versions.lock
/// lists in charts/external (tarball, or unpacked directory) or a chart in charts/custom, and
/// that every `repo/name` or `oci://` chart is locked, at a version its `version:` admits.
/// Template actions are reported as warnings, never evaluated; paths are resolved relative to
/// the file that names them, as helmfile does. Reads files only; silent.
public struct HelmfileCheck: Sendable {
    private let layout: ProjectLayout
    private let helmfile: String

    /// A check of the helmfile at `helmfile` (absolute) against the project at `layout`.
    public init(layout: ProjectLayout, helmfile: String) {
        self.layout = layout
        self.helmfile = helmfile
    }

    /// The helmfile the gate reads when none is named: `helmfile.yaml` (else
    /// `helmfile.yaml.gotmpl`) beside the chart list; nil when there is none.
    public static func defaultFile(_ layout: ProjectLayout) -> String? {
        ["helmfile.yaml", "helmfile.yaml.gotmpl"].map { layout.root + "/" + $0 }.first { FileSystem.exists($0) }
    }

    /// What the check found.
    public struct Result: Sendable {
        /// The helmfile, relative to the root (`../` when outside it).
        public var file = ""
        /// Problems and warnings (`TreeFinding.isWarning`), in the order found.
        public var findings: [TreeFinding] = []
        /// The helmfile files read, relative to the root, in the order read.
        public var files: [String] = []
        /// Releases whose chart was checked.
        public var releases = 0
    }

    /// Reads the helmfile and everything it pulls in, and checks every release against `lock`.
    public func check(_ lock: Lockfile) -> Result {
        var result = Result()
        result.file = relative(normalize(helmfile))
        var queue: [(path: String, from: (file: String, line: Int)?, what: String)] = [(normalize(helmfile), nil, "helmfile")]
        var seen = Set<String>()
        var next = 0
        while next < queue.count {
            let (path, from, what) = queue[next]
            next += 1
            guard seen.insert(path).inserted else { continue }
            let file = relative(path)
            let type: FileType?
            do {
                type = try FileSystem.type(of: path)
            } catch {
                result.findings.append(TreeFinding(.helmfileUnreadable, file: file, chart: nil, expected: "readable",
                                                   actual: error.message, message: "cannot be read: \(error.message)"))
                continue
            }
            guard type == .regular else {
                let actual = type?.description ?? "missing"
                let finding = from.map { from in
                    TreeFinding(.helmfileFileMissing, file: from.file, line: from.line, chart: nil, expected: "\(file): a regular file",
                                actual: actual, message: "\(what) \(file) is \(type == nil ? "not there" : actual + ", not a regular file")")
                } ?? TreeFinding(.helmfileFileMissing, file: file, chart: nil, expected: "a regular file", actual: actual,
                                 message: "is \(actual), not a regular file")
                result.findings.append(finding)
                continue
            }
            let document: Helmfile
            do {
                document = try HelmfileReader.read(path: path, source: file)
            } catch {
                result.findings.append(TreeFinding(.helmfileUnreadable, file: file, chart: nil, expected: "readable",
                                                   actual: error.message, message: "cannot be read: \(error.message)"))
                continue
            }
            result.files.append(file)
            let directory = FileSystem.parent(of: path)
            for action in document.templates {
                guard let reason = action.reason else { continue }
                result.findings.append(TreeFinding(
                    .templateNotEvaluated, file: file, line: action.line, chart: nil, expected: "a static value",
                    actual: action.summary,
                    message: "\(action.summary) is not evaluated (it depends on \(reason)); what depends on it is not checked"))
            }
            for problem in document.invalid {
                if problem.templated {
                    result.findings.append(TreeFinding(
                        .templateNotEvaluated, file: file, line: problem.line, chart: nil, expected: "YAML once its templates are blanked",
                        actual: problem.message,
                        message: "this part is not YAML without its templates (\(problem.message)); its releases are not checked"))
                } else {
                    result.findings.append(TreeFinding(.helmfileInvalid, file: file, line: problem.line, chart: nil,
                                                       expected: "a helmfile", actual: problem.message, message: problem.message))
                }
            }
            for (kind, what) in [(Helmfile.File.Kind.base, "base"), (.helmfile, "sub-helmfile")] {
                for reference in document.files where reference.kind == kind && !Helmfile.isTemplated(reference.path) {
                    if Self.isRemote(reference.path) {
                        result.findings.append(TreeFinding(
                            .helmfileNotRead, file: file, line: reference.line, chart: nil, expected: "a local file",
                            actual: reference.path, message: "\(what) \(reference.path) is remote; the offline gate does not read it"))
                        continue
                    }
                    let target = normalize(reference.path.hasPrefix("/") ? reference.path : directory + "/" + reference.path)
                    if what == "sub-helmfile" && reference.path.contains(where: { "*?[".contains($0) }) {
                        let matches = Self.glob(target)
                        if matches.isEmpty {
                            result.findings.append(TreeFinding(
                                .helmfileFileMissing, file: file, line: reference.line, chart: nil, expected: "at least one file",
                                actual: "no match", message: "sub-helmfile pattern \(reference.path) matches no file"))
                        }
                        for match in matches { queue.append((path: normalize(match), from: (file: file, line: reference.line), what: what)) }
                    } else {
                        queue.append((path: target, from: (file: file, line: reference.line), what: what))
                    }
                }
            }
            for reference in document.files where !Helmfile.isTemplated(reference.path) && !Self.isRemote(reference.path) {
                guard case .environment(let environment, _) = reference.kind else { continue }
                let target = normalize(reference.path.hasPrefix("/") ? reference.path : directory + "/" + reference.path)
                let type = try? FileSystem.type(of: target)
                if type == .regular || (type == nil && reference.missingAllowed) { continue }
                let actual = type == nil ? "missing" : type!.description
                result.findings.append(TreeFinding(
                    .helmfileFileMissing, file: file, line: reference.line, chart: nil, expected: "\(relative(target)): a regular file",
                    actual: actual,
                    message: "environment \(environment): values file \(reference.path) is \(type == nil ? "not there" : actual + ", not a regular file")"))
            }
            for release in document.releases where !release.uninstalled {
                guard let source = release.source(pathExists: { FileSystem.exists(directory + "/" + $0) }) else {
                    if !release.inheritsUnknown {
                        result.findings.append(TreeFinding(.helmfileInvalid, file: file, line: release.line, chart: nil,
                                                           expected: "chart:", actual: "none",
                                                           message: "release \(release.name) has no chart:"))
                    }
                    continue
                }
                if source == .template { continue }
                result.releases += 1
                if let finding = check(release, source: source, file: file, directory: directory, lock: lock) {
                    var finding = finding
                    finding.release = release.name
                    result.findings.append(finding)
                }
            }
        }
        return result
    }

    /// One release's chart against the lock and the tree; nil when it is fine.
    private func check(_ release: Helmfile.Release, source: Helmfile.Release.Source, file: String, directory: String,
                       lock: Lockfile) -> TreeFinding? {
        let chart = release.chart ?? ""
        let subject = "release \(release.name): chart \(chart)"
        if case .local(let path) = source {
            return local(release, file: file, path: normalize(path.hasPrefix("/") ? path : directory + "/" + path), lock: lock, subject: subject)
        }
        // repo/name (repo/path/name), or a URL: oci://HOST/PATH/NAME[:TAG]
        var name = String(chart.split(separator: "/").last ?? "")
        var tag: String?
        if case .url = source, chart.lowercased().hasPrefix("oci://") {
            if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
            if let colon = name.firstIndex(of: ":") {
                tag = String(name[name.index(after: colon)...])
                name = String(name[..<colon])
            }
        }
        guard let entry = lock.entry(named: name) else {
            return TreeFinding(.notVendored, file: file, line: release.chartLine, chart: name, expected: "chart \(name) in versions.lock",
                               actual: "not locked",
                               message: "\(subject) is not vendored: versions.lock has no chart \(name); add it to the chart list and run chartsync pull")
        }
        // A templated version is not checked (its template is reported); a tag stands for the version.
        let line = release.version != nil ? release.versionLine : release.chartLine
        guard let text = release.version ?? tag, !text.isEmpty, !Helmfile.isTemplated(text) else { return nil }
        let admits: Bool
        let reason: String
        do {
            let constraint = try VersionConstraint(parsing: text)
            admits = (try? SemanticVersion(parsing: entry.version)).map(constraint.isSatisfied) ?? false
            reason = "does not admit \(entry.name) \(entry.version), the version versions.lock holds"
        } catch {
            admits = false
            reason = "is not a version constraint (\(error.reason)); versions.lock holds \(entry.name) \(entry.version)"
        }
        if admits { return nil }
        return TreeFinding(.releaseVersionMismatch, file: file, line: line, chart: name, expected: text, actual: entry.version,
                           message: "release \(release.name): version \"\(text)\" \(reason); run chartsync pull, or change the release")
    }

    /// A local chart path: a chart versions.lock lists in charts/external, or one in charts/custom.
    private func local(_ release: Helmfile.Release, file: String, path: String, lock: Lockfile,
                       subject: String) -> TreeFinding? {
        let target = relative(path)
        let expected = "a vendored chart (charts/external, in versions.lock) or a custom chart (charts/custom)"
        func notVendored(_ why: String, actual: String) -> TreeFinding {
            TreeFinding(.notVendored, file: file, line: release.chartLine, chart: nil, expected: expected, actual: actual,
                        message: "\(subject): \(target) \(why)")
        }
        if target == ".." || target.hasPrefix("../") {
            return notVendored("is outside the project; the gate and bundles carry only the project's charts", actual: "outside the project")
        }
        let type = try? FileSystem.type(of: path)
        guard let type else {
            let base = FileSystem.baseName(target)
            let hint = lock.entries.filter { base.hasPrefix($0.name + "-") }.max { $0.name.count < $1.name.count }.map { entry in
                let now = entry.tree != nil && !base.hasSuffix(".tgz") ? entry.directoryName : entry.fileName
                return "; versions.lock holds \(entry.name) \(entry.version) (charts/external/\(now))"
            } ?? ""
            return TreeFinding(.releaseChartMissing, file: file, line: release.chartLine, chart: nil, expected: target + ": " + expected,
                               actual: "missing", message: "\(subject) is not there\(hint)")
        }
        let external = "charts/external/", custom = "charts/custom/"
        if target.hasPrefix(external) {
            let name = String(target.dropFirst(external.count))
            if type == .regular, lock.entries.contains(where: { $0.fileName == name }) { return nil }
            if type == .directory, lock.entries.contains(where: { $0.tree != nil && $0.directoryName == name }) { return nil }
            if let entry = lock.entries.first(where: { $0.directoryName == name }), type == .directory {
                return notVendored("is not in versions.lock: \(entry.name) is locked without unpack: true", actual: type.description)
            }
            return notVendored("is \(type.description) versions.lock does not list", actual: type.description)
        }
        if target.hasPrefix(custom) {
            if type == .regular { return nil }
            if type == .directory && FileSystem.isRegularFile(path + "/Chart.yaml") { return nil }
            return notVendored(type == .directory ? "is not a chart (no Chart.yaml)" : "is \(type.description)", actual: type.description)
        }
        return notVendored("is neither in charts/external nor in charts/custom", actual: type.description)
    }

    /// A reference helmfile fetches (go-getter `git::`, a URL).
    static func isRemote(_ path: String) -> Bool { path.hasPrefix("git::") || path.contains("://") }

    /// The files matching a glob pattern (absolute), sorted.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
            .filter(FileSystem.isRegularFile).sorted()
    }

    /// `path` with `.`, `..` and repeated slashes resolved lexically (links are never followed).
    private func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `path` (absolute, normalized) relative to the root, with `../` when outside it.
    private func relative(_ path: String) -> String {
        let root = normalize(layout.root).split(separator: "/")
        let parts = path.split(separator: "/")
        var common = 0
        while common < root.count && common < parts.count && root[common] == parts[common] { common += 1 }
        let up = Array(repeating: "..", count: root.count - common)
        let rest = (up + parts[common...].map(String.init)).joined(separator: "/")
        return rest.isEmpty ? "." : rest
    }
}
