import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex

/// Whether helmfile's releases use only charts the project carries: reads a helmfile (a file, or
/// the files of a `helmfile.d/` directory) and what it pulls in (`helmfiles:`, also as globs,
/// `bases:`, every `---` part; ``HelmfileTree``), checks that the environments' values files and
/// the releases' values and secrets files exist, that every local `chart:` path is a chart
/// versions.lock lists in charts/external (tarball, or unpacked directory) or a chart in
/// charts/custom, and that every `repo/name` or `oci://` chart is locked, at a version its
/// `version:` admits. Template actions are reported as warnings, never evaluated; paths are
/// resolved relative to the file that names them, as helmfile does. Reads files only; silent.
public struct HelmfileCheck: Sendable {
    private let layout: ProjectLayout
    private let helmfile: String

    /// A check of the helmfile at `helmfile` (absolute) against the project at `layout`.
    public init(layout: ProjectLayout, helmfile: String) {
        self.layout = layout
        self.helmfile = helmfile
    }

    /// The helmfile the gate reads when none is named: `helmfile.yaml`, else
    /// `helmfile.yaml.gotmpl`, else `helmfile.d/` beside the chart list (``HelmfileTree/defaultFile(_:)``);
    /// nil when there is none.
    public static func defaultFile(_ layout: ProjectLayout) -> String? { HelmfileTree.defaultFile(layout) }

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
        let tree = HelmfileTree(layout: layout, helmfile: helmfile)
        result.file = tree.file
        if HelmfileTree.normalize(helmfile) == HelmfileTree.defaultFile(layout).map(HelmfileTree.normalize),
           let conflict = HelmfileTree.defaultConflict(layout) {
            result.findings.append(TreeFinding(.helmfileInvalid, file: tree.file, chart: nil, expected: "one default helmfile",
                                               actual: "two", message: conflict))
        }
        if tree.isEmptyDirectory {
            result.findings.append(TreeFinding(.helmfileFileMissing, file: tree.file, chart: nil, expected: "*.yaml or *.yaml.gotmpl files",
                                               actual: "none", message: "holds no helmfile file (*.yaml, *.yml, *.yaml.gotmpl)"))
        }
        for item in tree.items {
            switch item {
            case .unread(let unread):
                result.findings.append(finding(unread))
            case .document(let document):
                check(document, lock: lock, into: &result)
            }
        }
        return result
    }

    /// The finding for a helmfile file that could not be read.
    private func finding(_ unread: HelmfileTree.Unread) -> TreeFinding {
        let file = unread.file
        if let message = unread.error {
            return TreeFinding(.helmfileUnreadable, file: file, chart: nil, expected: "readable", actual: message,
                               message: "cannot be read: \(message)")
        }
        let type = unread.type
        let actual = type?.description ?? "missing"
        if let from = unread.from {
            return TreeFinding(.helmfileFileMissing, file: from.file, line: from.line, chart: nil, expected: "\(file): a regular file",
                               actual: actual,
                               message: "\(unread.what) \(file) is \(type == nil ? "not there" : actual + ", not a regular file")")
        }
        return TreeFinding(.helmfileFileMissing, file: file, chart: nil, expected: "a regular file", actual: actual,
                           message: "is \(actual), not a regular file")
    }

    /// The findings of one helmfile file: its templates, what is not YAML, the references not
    /// followed, its environments' files, its releases.
    private func check(_ document: HelmfileTree.Document, lock: Lockfile, into result: inout Result) {
        let file = document.file
        let directory = document.directory
        let helmfile = document.helmfile
        result.files.append(file)
        for action in helmfile.templates {
            guard let reason = action.reason else { continue }
            result.findings.append(TreeFinding(
                .templateNotEvaluated, file: file, line: action.line, chart: nil, expected: "a static value",
                actual: action.summary,
                message: "\(action.summary) is not evaluated (it depends on \(reason)); what depends on it is not checked"))
        }
        for problem in helmfile.invalid {
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
        for skipped in document.skipped {
            switch skipped.reason {
            case .remote:
                result.findings.append(TreeFinding(
                    .helmfileNotRead, file: file, line: skipped.line, chart: nil, expected: "a local file",
                    actual: skipped.path, message: "\(skipped.what) \(skipped.path) is remote; the offline gate does not read it"))
            case .noMatch:
                result.findings.append(TreeFinding(
                    .helmfileFileMissing, file: file, line: skipped.line, chart: nil, expected: "at least one file",
                    actual: "no match", message: "\(skipped.what) pattern \(skipped.path) matches no file"))
            case .outside:
                break   // the gate reads the whole tree
            }
        }
        for reference in helmfile.files where !Helmfile.isTemplated(reference.path) && !HelmfileTree.isRemote(reference.path) {
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
        for release in helmfile.releases where !release.uninstalled {
            for finding in missingValues(release, file: file, directory: directory) { result.findings.append(finding) }
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

    /// A release's `values:` and `secrets:` files that are not there, as helmfile resolves them
    /// (relative to the helmfile file's directory, globs expanded): none when its
    /// `missingFileHandler` tolerates missing files. Templated and remote paths are not checked
    /// (their templates are reported).
    private func missingValues(_ release: Helmfile.Release, file: String, directory: String) -> [TreeFinding] {
        guard !release.toleratesMissingFiles else { return [] }
        var findings: [TreeFinding] = []
        for (entries, what) in [(release.values, "values"), (release.secrets, "secrets")] {
            for case .file(let path, let line) in entries where !Helmfile.isTemplated(path) && !HelmfileTree.isRemote(path) {
                let target = normalize(path.hasPrefix("/") ? path : directory + "/" + path)
                let type: FileType?
                if path.contains(where: { "*?[".contains($0) }) {
                    type = HelmfileTree.glob(target).isEmpty ? nil : .regular
                } else {
                    type = try? FileSystem.type(of: target)
                }
                if type == .regular { continue }
                let actual = type?.description ?? "missing"
                var finding = TreeFinding(
                    .releaseValuesMissing, file: file, line: line, chart: nil, expected: "\(relative(target)): a regular file",
                    actual: actual,
                    message: "release \(release.name): \(what) file \(path) is \(type == nil ? "not there" : actual + ", not a regular file")"
                        + " (helmfile stops here unless the release sets missingFileHandler: Warn)")
                finding.release = release.name
                findings.append(finding)
            }
        }
        return findings
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

    /// `path` with `.`, `..` and repeated slashes resolved lexically (links are never followed).
    private func normalize(_ path: String) -> String { HelmfileTree.normalize(path) }

    /// `path` (absolute, normalized) relative to the root, with `../` when outside it.
    private func relative(_ path: String) -> String { HelmfileTree.relative(path, root: normalize(layout.root)) }
}
